export { assertSandboxCanReach } from './assert-sandbox-can-reach.ts';
export {
  commitKey,
  EVALUATION_VERSION,
  ignoreMatcher,
  resultKey,
  splitIgnored,
  type TreeEntry,
} from './content-key.ts';
export { type EnvironmentFacts, KEY_PACKAGES } from './environment-facts.ts';
export { evaluateCommit } from './evaluate-commit.ts';
export type { EvaluateCommitOptions, EvaluateResult, Progress, ResultStore } from './evaluate-options.ts';
export type { CommitSource } from './fetch-commit.ts';
export { InfrastructureError } from './infrastructure-error.ts';
export { LogCollector, type LogLimits } from './log-collector.ts';
export {
  MAX_HISTORY_POINTS,
  MAX_HISTORY_SERIES,
  MAX_METRICS,
  MAX_NAME_LENGTH,
} from './metrics-from-literal.ts';
export { type PythonInterpreter, resolvePython } from './python-interpreter.ts';
export { MAX_METRICS_BYTES } from './read-metrics.ts';
export { type ReapResult, reapStaleWorkDirs } from './reap-stale-work-dirs.ts';
export { isResultKnown } from './reused-result.ts';
export {
  createSandbox,
  DEFAULT_SANDBOX_UIDS,
  type Sandbox,
  type SandboxLimits,
  type SandboxSettings,
  SandboxUnavailableError,
  sandboxLeaseSettings,
  type UidRange,
} from './sandbox/index.ts';
export type { WorkerEnv } from './sandbox-env.ts';
export { toSideOutcome } from './to-side-outcome.ts';
