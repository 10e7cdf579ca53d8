export { type EnvironmentFacts, KEY_PACKAGES } from './environment-facts.ts';
export { evaluateCommit } from './evaluate-commit.ts';
export type { EvaluateCommitOptions, EvaluateResult, Progress } from './evaluate-options.ts';
export type { CommitSource } from './fetch-commit.ts';
export { InfrastructureError } from './infrastructure-error.ts';
export type { LogLimits } from './log-collector.ts';
export { type ReapResult, reapStaleWorkDirs } from './reap-stale-work-dirs.ts';
export type { RunAsUser } from './run-sandboxed.ts';
export type { WorkerEnv } from './sandbox-env.ts';
