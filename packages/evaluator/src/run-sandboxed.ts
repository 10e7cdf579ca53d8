import { setTimeout as sleep } from 'node:timers/promises';
import { execa } from 'execa';
import type { LogCollector } from './log-collector.ts';
import { killProcessesWithEnv, killProcessGroup } from './process-group.ts';

/** The unprivileged account PR code runs as when the worker is root. */
export interface RunAsUser {
  uid: number;
  gid: number;
}

export interface RunSandboxedOptions {
  /** Program and arguments; PR commands are `['sh', '-c', command]`. */
  argv: [string, ...string[]];
  cwd: string;
  /** The complete environment (nothing is inherited). */
  env: Record<string, string>;
  user?: RunAsUser | undefined;
  /** Epoch ms after which the command is killed and reported as timed out. */
  deadline?: number | undefined;
  signal?: AbortSignal | undefined;
  /** Output goes here; stdout and stderr are split into lines separately. */
  log: LogCollector;
  /** Time between SIGTERM and SIGKILL. */
  graceMs: number;
  /**
   * An environment entry unique to this job (e.g. `HOME=<job>/home`): processes carrying it
   * are killed when the command ends, even if they left the process group.
   */
  sweepEnv?: string | undefined;
  /** Called with the new process group id right after spawn, and when it is gone. */
  onGroup?: ((event: 'start' | 'end', pgid: number) => void) | undefined;
}

export interface RunSandboxedResult {
  exitCode: number | undefined;
  /** The signal that ended the command, when it did not exit on its own. */
  signal: string | undefined;
  timedOut: boolean;
  cancelled: boolean;
  /** Set when the command could not be started at all. */
  spawnError: string | undefined;
  durationMs: number;
  /** The last non-empty output line, redacted. */
  lastLine: string | undefined;
  /** Pids of the group still alive after SIGKILL (normally none). */
  survivors: number[];
}

/**
 * Run one command in its own process group with a closed stdin, a complete (scrubbed)
 * environment, optionally as another user. On timeout or abort the whole group gets SIGTERM,
 * then SIGKILL; when the command ends by itself, anything it left running in its group is
 * killed too, so background children never outlive their command.
 */
export async function runSandboxed(opts: RunSandboxedOptions): Promise<RunSandboxedResult> {
  const started = Date.now();
  const base = { timedOut: false, cancelled: false, survivors: [] as number[], lastLine: undefined };
  if (opts.signal?.aborted) {
    return {
      ...base,
      cancelled: true,
      exitCode: undefined,
      signal: undefined,
      spawnError: undefined,
      durationMs: 0,
    };
  }
  const [file, ...args] = opts.argv;
  const subprocess = execa(file, args, {
    cwd: opts.cwd,
    env: opts.env,
    extendEnv: false,
    stdin: 'ignore',
    stdout: 'pipe',
    stderr: 'pipe',
    buffer: false,
    detached: true,
    reject: false,
    forceKillAfterDelay: false,
    ...(opts.user ? { uid: opts.user.uid, gid: opts.user.gid } : {}),
  });
  const out = opts.log.sink();
  const err = opts.log.sink();
  subprocess.stdout?.on('data', (chunk: Buffer) => out.write(chunk));
  subprocess.stderr?.on('data', (chunk: Buffer) => err.write(chunk));

  const pgid = subprocess.pid;
  let timedOut = false;
  let cancelled = false;
  let killing: Promise<number[]> | undefined;
  const kill = (graceMs: number) => {
    if (pgid === undefined) return;
    killing ??= killProcessGroup(pgid, { graceMs });
  };
  let timer: NodeJS.Timeout | undefined;
  const onAbort = () => {
    cancelled = true;
    kill(opts.graceMs);
  };
  if (pgid !== undefined) {
    opts.onGroup?.('start', pgid);
    if (opts.deadline !== undefined) {
      timer = setTimeout(
        () => {
          timedOut = true;
          kill(opts.graceMs);
        },
        Math.max(0, opts.deadline - Date.now()),
      );
    }
    opts.signal?.addEventListener('abort', onAbort, { once: true });
  }

  if (pgid !== undefined) {
    // Background children keep the pipes open: kill them as soon as the command itself exits.
    await new Promise((resolve) => subprocess.once('exit', resolve));
    clearTimeout(timer);
    kill(0);
    await killing;
    // The output ends once nothing holds it open. What still does left the process group
    // (setsid): find it by its environment — a scan of every process, so only when needed;
    // the job's cleanup sweeps once more at its end. Whatever holds the output open after
    // that escaped both: stop reading rather than hang. The timers are unref'd: left pending
    // after the output drains, they must not delay the exit of a short-lived caller
    // (evalbot compare).
    const outputEnded = subprocess.then(() => true);
    let drained = await Promise.race([outputEnded, sleep(100, false, { ref: false })]);
    if (!drained && opts.sweepEnv) await killProcessesWithEnv(opts.sweepEnv);
    if (!drained) drained = await Promise.race([outputEnded, sleep(2000, false, { ref: false })]);
    if (!drained) {
      opts.log.line(
        "evalbot: a process outside the command's process group kept its output open; stopped reading",
      );
      subprocess.stdout?.destroy();
      subprocess.stderr?.destroy();
    }
  }
  const result = await subprocess;
  clearTimeout(timer);
  opts.signal?.removeEventListener('abort', onAbort);
  const survivors = killing ? await killing : [];
  out.end();
  err.end();
  if (pgid !== undefined) opts.onGroup?.('end', pgid);
  const lastLine = err.lastLine ?? out.lastLine;
  return {
    exitCode: result.exitCode,
    signal: result.signal,
    timedOut,
    cancelled: cancelled && !timedOut,
    spawnError: pgid === undefined ? (result.originalMessage ?? result.shortMessage) : undefined,
    durationMs: Date.now() - started,
    lastLine,
    survivors,
  };
}
