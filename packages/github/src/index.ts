export { addReaction, type ReactionContent } from './add-reaction.ts';
export {
  type CompleteCheckRunOptions,
  completeCheckRun,
  type UpdateCheckRunOptions,
  updateCheckRun,
} from './complete-check-run.ts';
export { type CheckRunRef, type CreateCheckRunOptions, createCheckRun } from './create-check-run.ts';
export {
  createGitHubApp,
  type GitHubApp,
  type GitHubAppOptions,
  type GitHubClient,
  type RetryPolicy,
  type ThrottlePolicy,
} from './create-github-app.ts';
export { getPermission, type RepoPermission } from './get-permission.ts';
export { getPullRequest, type PullRequestInfo, type PullRequestSide } from './get-pull-request.ts';
export { gitAuthHeader, gitCredentialEnv } from './git-credential-env.ts';
export {
  classifyGitHubError,
  type GitHubErrorInfo,
  isRetryableGitHubError,
  permanentGitHubError,
} from './github-errors.ts';
export {
  type CheckRunConclusion,
  type CheckRunOutput,
  type CheckRunResult,
  EVALBOT_COMMENT_MARKER,
  GITHUB_LIMITS,
} from './github-facts.ts';
export { listReportComments, type ReportComment } from './list-report-comments.ts';
export { removeLabel } from './remove-label.ts';
export { replyToPullRequest } from './reply-to-pull-request.ts';
export { type AppPermission, cloneScope, type TokenScope } from './token-scope.ts';
export {
  type UpsertCommentOptions,
  type UpsertCommentResult,
  upsertPullRequestComment,
} from './upsert-pull-request-comment.ts';
