import type { LogCollector } from './log-collector.ts';
import type { RunSandboxedResult } from './run-sandboxed.ts';

/** How a step of setup or run did not succeed; the evaluator turns it into a `SideFailure`. */
export type StepFailure =
  | { kind: 'failed'; message: string }
  | { kind: 'timed-out'; command: string }
  | { kind: 'cancelled' };

/** Run one command of the job (in its process group, under its limits); see `evaluate-commit.ts`. */
export type RunStep = (step: {
  argv: [string, ...string[]];
  /** The command as the PR author wrote or would recognise it, for the log and messages. */
  label: string;
  cwd: string;
  env: Record<string, string>;
  /** Trusted tooling (creating a venv) runs as the worker; everything else as the run user. */
  asWorker?: boolean;
  /** Output goes here instead of the job's log, with no `$ command` line in the job's log. */
  log?: LogCollector;
  /** A limit of its own, within the job's. */
  timeoutMs?: number;
  /** More paths the step may write besides the job's own (a shared environment being built). */
  writable?: string[];
}) => Promise<RunSandboxedResult>;

/** A failure message for a command that did not exit 0, or undefined when it did. */
export function stepFailure(label: string, result: RunSandboxedResult): StepFailure | undefined {
  if (result.cancelled) return { kind: 'cancelled' };
  if (result.timedOut) return { kind: 'timed-out', command: label };
  if (result.spawnError)
    return { kind: 'failed', message: `\`${label}\` could not be started: ${result.spawnError}` };
  if (result.limitHit && result.limitMessage) {
    return { kind: 'failed', message: `\`${label}\` was stopped: ${result.limitMessage}` };
  }
  if (result.exitCode === 0) return undefined;
  const how =
    result.exitCode !== undefined
      ? `exited with code ${result.exitCode}`
      : `was killed by ${result.signal ?? 'a signal'}${result.signal === 'SIGKILL' ? ' (out of memory?)' : ''}`;
  return {
    kind: 'failed',
    message: `\`${label}\` ${how}${result.lastLine ? `: ${result.lastLine.trim()}` : ''}`,
  };
}
