export type { SandboxView } from './bwrap-args.ts';
export {
  createSandbox,
  DEFAULT_SANDBOX_UIDS,
  type Sandbox,
  type SandboxedCommand,
  type SandboxIdentity,
  type SandboxSettings,
  sandboxLeaseSettings,
} from './create-sandbox.ts';
export { deletedOpenBytes, diskUsageOver } from './disk-usage.ts';
export {
  DEFAULT_SANDBOX_LIMITS,
  describeLimitHit,
  formatBytes,
  type LimitHit,
  type SandboxLimits,
} from './sandbox-limits.ts';
export { SandboxUnavailableError } from './sandbox-unavailable-error.ts';
export type { StepCgroup } from './step-cgroup.ts';
export type { UidRange } from './uid-lease.ts';
