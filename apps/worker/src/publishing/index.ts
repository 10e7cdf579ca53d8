export { CHECK_RUN_NAME, CheckRunOutput } from './check-run-output.ts';
export { CommentOutput } from './comment-output.ts';
export type {
  CancelledInput,
  Notice,
  PendingInput,
  PublishContext,
  PublishOutput,
  Refusal,
  SupersededInput,
} from './publish-output.ts';
export { PublishRefusedError } from './publish-refused-error.ts';
export { type GateState, PullRequestGate } from './pull-request-gate.ts';
export { type ReportInput, ReportPublisher } from './report-publisher.ts';
