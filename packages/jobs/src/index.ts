export {
  type CompareJob,
  compareJobSchema,
  type EvaluateJob,
  type EvaluationRequest,
  evaluateJobSchema,
  evaluationKeyOf,
  type PullRequestRef,
  pullRequestKeyOf,
  pullRequestRefSchema,
  requestSchema,
  type Trigger,
  triggerSchema,
} from './payloads.ts';
export { COMPARE_QUEUE, DEFAULT_PREFIX, EVALUATE_QUEUE, QUEUE_NAMES } from './queue-names.ts';
export {
  type RunResult,
  runResultSchema,
  type SideFailure,
  type SideOutcome,
  type SideSuccess,
  type Stage,
  sideFailureSchema,
  sideOutcomeSchema,
  sideSuccessSchema,
  stageSchema,
} from './side-outcome.ts';
