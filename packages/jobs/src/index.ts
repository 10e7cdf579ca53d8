export { buildEvaluationFlow, fetchRefsFor } from './build-evaluation-flow.ts';
export { type CancelPullRequestResult, cancelPullRequest } from './cancel-pull-request.ts';
export {
  type ConnectionLogger,
  type CreateRedisConnectionOptions,
  createRedisConnection,
  redisTargetOptions,
  waitForRedisReady,
} from './create-redis-connection.ts';
export {
  type DeliveryJob,
  type DeliveryWork,
  deliveryJobIdOf,
  deliveryJobSchema,
  prKeyOfWork,
} from './delivery-job.ts';
export { type EnqueueCommandResult, enqueueEvaluateCommand } from './enqueue-evaluate-command.ts';
export {
  type EnqueueEvaluationOptions,
  type EnqueueEvaluationResult,
  enqueueEvaluation,
} from './enqueue-evaluation.ts';
export {
  JOB_LOG_LIMITS,
  type JobData,
  type JobKind,
  jobCatalog,
  jobOf,
  jobOptionsOf,
} from './job-catalog.ts';
export { createJobProducer, type JobProducer, type RedisConnection } from './job-producer.ts';
export { JOB_STATES } from './job-states.ts';
export {
  type CompareJob,
  compareJobSchema,
  type EvaluateCommandJob,
  type EvaluateJob,
  type EvaluationRequest,
  evaluateCommandJobSchema,
  evaluateJobSchema,
  evaluationKeyOf,
  type PullRequestRef,
  type PullRequestTarget,
  pullRequestKeyOf,
  pullRequestRefSchema,
  pullRequestTargetSchema,
  requestSchema,
} from './payloads.ts';
export { poolOfQueue, poolQueueOf } from './pool-queues.ts';
export {
  CANCELLED_HEAD,
  type PullRequestEvent,
  pullRequestEventSchema,
  readPullRequestHead,
  type SetHeadResult,
  setPullRequestHead,
} from './pull-request-state.ts';
export {
  COMMAND_QUEUE,
  COMPARE_QUEUE,
  DELIVERY_QUEUE,
  EVALUATE_QUEUE,
  QUEUE_NAMES,
  type QueueName,
  RECOVERY_QUEUE,
} from './queue-names.ts';
export { RedisAccessError } from './redis-access-error.ts';
export { PULL_REQUEST_STATE_TTL_SECONDS, redisKeys } from './redis-keys.ts';
export {
  type RemovedEvaluations,
  releaseEvaluationKey,
  removePendingEvaluations,
} from './remove-pending-evaluations.ts';
export { type RoutedDelivery, routeRecordedDelivery } from './route-recorded-delivery.ts';
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
export {
  isPullRequestCancel,
  isPullRequestTrigger,
  PULL_REQUEST_CANCELS,
  PULL_REQUEST_TRIGGERS,
  type PullRequestCancel,
  type PullRequestTrigger,
  TRIGGERS,
  type Trigger,
  triggerSchema,
  VOUCHED_BY_MAINTAINER,
} from './triggers.ts';
export { describeRedisUrl, verifyRedisAccess } from './verify-redis-access.ts';
