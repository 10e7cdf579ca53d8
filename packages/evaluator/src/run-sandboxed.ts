import { readFile } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { execa } from 'execa';
import { isProcessAlive } from './is-process-alive.ts';
import type { LogCollector } from './log-collector.ts';
import { killProcessesWithEnv, killProcessGroup, signalGroup } from './process-group.ts';
import { deletedOpenBytes, diskUsageOver, type LimitHit, type StepCgroup } from './sandbox/index.ts';

export interface RunSandboxedOptions {
  /** Program and arguments; PR commands are `['sh', '-c', command]`. */
  argv: [string, ...string[]];
  cwd: string;
  /** The complete environment (nothing is inherited). */
  env: Record<string, string>;
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
  /**
   * `argv` is a sandbox chain (`Sandbox.command`) ending in bubblewrap with `--info-fd 3`: the
   * step ends when bubblewrap's init is gone, which takes every process of the step with it.
   */
  jail?: {
    cgroup: StepCgroup | undefined;
    /** The step is stopped when these paths hold more than `maxBytes` (checked every second). */
    disk?: { paths: string[]; maxBytes: number };
  };
  /**
   * For a command outside the sandbox (the worker's git): stopped, as a jail's step is, when
   * these paths hold more than `maxBytes` (checked every second; `limitHit: 'disk'`).
   */
  disk?: { paths: string[]; maxBytes: number } | undefined;
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
  /** The sandbox limit that stopped the command, when one did. */
  limitHit?: LimitHit | undefined;
  /** What the report says of that limit (set by the evaluator, which knows the limits). */
  limitMessage?: string | undefined;
}

/** bubblewrap exits 128 + the signal that ended its command; 25 is SIGXFSZ. */
const EXIT_ON_SIGXFSZ = 128 + 25;

/**
 * Run one command in its own process group with a closed stdin and a complete (scrubbed)
 * environment; with `jail`, the command is a sandbox chain (see `Sandbox.command`). On timeout
 * or abort the whole group (in a sandbox: the command, then its namespace) gets SIGTERM, then
 * SIGKILL; when the command ends by itself, anything it left running is killed too, so
 * background children never outlive their command.
 */
export async function runSandboxed(opts: RunSandboxedOptions): Promise<RunSandboxedResult> {
  const started = Date.now();
  const base = { timedOut: false, cancelled: false, survivors: [] as number[], lastLine: undefined };
  if (opts.signal?.aborted) {
    await opts.jail?.cgroup?.remove();
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
  const jail = opts.jail;
  const subprocess = execa(file, args, {
    // In a sandbox the command's directory is bubblewrap's --chdir.
    cwd: jail ? '/' : opts.cwd,
    env: opts.env,
    extendEnv: false,
    stdio: jail ? ['ignore', 'pipe', 'pipe', 'pipe'] : ['ignore', 'pipe', 'pipe'],
    buffer: false,
    detached: true,
    reject: false,
    forceKillAfterDelay: false,
  });
  const out = opts.log.sink();
  const err = opts.log.sink();
  subprocess.stdout?.on('data', (chunk: Buffer) => out.write(chunk));
  subprocess.stderr?.on('data', (chunk: Buffer) => err.write(chunk));

  const pgid = subprocess.pid;
  let timedOut = false;
  let cancelled = false;
  let killing: Promise<number[]> | undefined;
  const sandboxInit = jail ? readSandboxInit(subprocess.stdio[3]) : undefined;
  const kill = (graceMs: number) => {
    if (pgid === undefined) return;
    killing ??= sandboxInit ? stopSandbox(pgid, sandboxInit, graceMs) : killProcessGroup(pgid, { graceMs });
  };
  let limitHit: LimitHit | undefined;
  const stopForLimit = (hit: LimitHit) => {
    limitHit ??= hit;
    kill(0);
  };
  const diskWatch =
    (jail?.disk ?? opts.disk) && pgid !== undefined
      ? watchDisk(jail?.disk ?? (opts.disk as { paths: string[]; maxBytes: number }), jail?.cgroup, () =>
          stopForLimit('disk'),
        )
      : undefined;
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

  if (pgid !== undefined && jail) {
    // bubblewrap exits as soon as the command does; its init (pid 1 of the step's namespace)
    // then dies with it (--die-with-parent), and the kernel kills everything left in the
    // namespace before the init itself is gone. Wait for that: only then is nothing of the
    // step alive to change the job directory the worker reads next.
    await new Promise((resolve) => subprocess.once('exit', resolve));
    clearTimeout(timer);
    diskWatch?.stop();
    const init = await Promise.race([sandboxInit, sleep(1000, undefined, { ref: false })]);
    for (let waited = 0; init !== undefined && isProcessAlive(init) && waited < 10_000; waited += 10) {
      await sleep(10);
    }
    if (!(await Promise.race([subprocess.then(() => true), sleep(5000, false, { ref: false })]))) {
      subprocess.stdout?.destroy();
      subprocess.stderr?.destroy();
    }
  } else if (pgid !== undefined) {
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
  if (jail) {
    // A limit explains a command that failed; one that succeeded was not stopped by anything
    // (it may have survived a refused fork or thread).
    const failed = result.exitCode !== 0 || timedOut || cancelled;
    if (failed) limitHit ??= await jail.cgroup?.limitHit();
    await jail.cgroup?.remove();
    const tail = lastLine ?? '';
    if (
      failed &&
      !limitHit &&
      (result.exitCode === EXIT_ON_SIGXFSZ || /\bFile too large\b|\[Errno 27\]/.test(tail))
    ) {
      limitHit = 'file-size';
    }
    // Without a cgroup to count it, a fork refused by RLIMIT_NPROC only says EAGAIN.
    if (
      failed &&
      !limitHit &&
      !jail.cgroup &&
      /fork.*Resource temporarily unavailable|can't start new thread|os\.fork\(\).*\[Errno 11\]/.test(tail)
    ) {
      limitHit = 'processes';
    }
  }
  return {
    limitHit,
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

/** The host pid of bubblewrap's init (pid 1 of the step's namespace), from `--info-fd`. */
function readSandboxInit(stream: unknown): Promise<number | undefined> {
  const readable = stream as NodeJS.ReadableStream | undefined;
  if (!readable) return Promise.resolve(undefined);
  return new Promise((resolve) => {
    let text = '';
    readable.on('data', (chunk: Buffer) => {
      text += chunk.toString();
      const match = /"child-pid"\s*:\s*(\d+)/.exec(text);
      if (match) resolve(Number(match[1]));
    });
    readable.on('end', () => resolve(undefined));
    readable.on('error', () => resolve(undefined));
  });
}

/**
 * End a sandboxed step: SIGTERM to the command (the init's children), SIGKILL to the init
 * after `graceMs`; the kernel then kills the rest of its pid namespace. Before bubblewrap has
 * reported its init, the chain's process group is killed instead (bubblewrap's
 * --die-with-parent takes the init along).
 */
async function stopSandbox(
  pgid: number,
  init: Promise<number | undefined>,
  graceMs: number,
): Promise<number[]> {
  const pid = await Promise.race([init, sleep(200, undefined, { ref: false })]);
  if (pid === undefined) {
    signalGroup(pgid, 'SIGKILL');
    return [];
  }
  if (graceMs > 0) {
    const children = await readFile(`/proc/${pid}/task/${pid}/children`, 'utf8').catch(() => '');
    for (const child of children.trim().split(/\s+/).filter(Boolean)) {
      try {
        process.kill(Number(child), 'SIGTERM');
      } catch {
        // already gone
      }
    }
    const deadline = Date.now() + graceMs;
    while (Date.now() < deadline && isAlive(pid)) await sleep(50);
  }
  try {
    process.kill(pid, 'SIGKILL');
  } catch {
    // already gone
  }
  return [];
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Check the step's disk use every second; `onOver` once when it passes the limit. */
function watchDisk(
  disk: { paths: string[]; maxBytes: number },
  cgroup: StepCgroup | undefined,
  onOver: () => void,
): { stop(): void } {
  let stopped = false;
  let checking = false;
  const timer = setInterval(() => {
    if (checking || stopped) return;
    checking = true;
    // Deleted files the step still holds open use the disk too (seen through its cgroup's pids).
    (cgroup ? cgroup.pids().then(deletedOpenBytes) : Promise.resolve(0))
      .then((held) => diskUsageOver(disk.paths, disk.maxBytes, held))
      .then((over) => {
        if (over && !stopped) {
          stopped = true;
          onOver();
        }
      })
      .finally(() => {
        checking = false;
      });
  }, 1000);
  timer.unref();
  return {
    stop() {
      stopped = true;
      clearInterval(timer);
    },
  };
}
