export { JWT_MESSAGES, verifyAppJwt } from './app-jwt.ts';
export type { FaultEffect, FaultSpec, InjectedFault } from './faults.ts';
export type { FileChanges, GitAuthor } from './git-repos.ts';
export type { HookDeliveryAttempt } from './hook-delivery-log.ts';
export { type AppKeyPair, generateAppKeyPair } from './key-pair.ts';
export { APP_PERMISSIONS, type PermissionLevel, type Permissions } from './permissions.ts';
export type { RecordedRequest } from './request-log.ts';
export type {
  AddCommitOptions,
  CreateInstallationOptions,
  CreateRepoOptions,
  OpenedPullRequest,
  OpenPullRequestOptions,
  RepoHandle,
} from './scenario-options.ts';
export { deliveryHeaders, sendDelivery, signDelivery } from './send-delivery.ts';
export type { RepoRole, SimState } from './sim-state.ts';
export { type GitHubSim, type GitHubSimOptions, startGitHubSim } from './start-github-sim.ts';
export * from './webhook-deliveries.ts';
