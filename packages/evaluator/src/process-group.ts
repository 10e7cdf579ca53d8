import { readdir, readFile } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';

export interface ProcStat {
  pid: number;
  state: string;
  pgid: number;
  /** Clock ticks after boot: with the pid, identifies one process across pid reuse. */
  startTime: string;
}

/** `/proc/<pid>/stat` of one process, or undefined when it is gone or /proc is unavailable. */
export async function readProcStat(pid: number): Promise<ProcStat | undefined> {
  let text: string;
  try {
    text = await readFile(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return undefined;
  }
  // The command name is in parentheses and may itself hold spaces or parentheses.
  const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
  const pgid = Number(fields[2]);
  if (!fields[0] || !Number.isInteger(pgid)) return undefined;
  return { pid, state: fields[0], pgid, startTime: fields[19] ?? '' };
}

/**
 * Live (non-zombie) members of process group `pgid`. Zombies are ignored because where pid 1
 * does not reap orphans (some container inits) they linger and would look like survivors.
 * Falls back to `kill(-pgid, 0)` where /proc is not available.
 */
export async function liveGroupMembers(pgid: number): Promise<ProcStat[]> {
  // One syscall answers the common case (the command exited, nothing of its group is left)
  // without reading every process's /proc entry.
  if (!groupExists(pgid)) return [];
  let pids: string[];
  try {
    pids = (await readdir('/proc')).filter((name) => /^\d+$/.test(name));
  } catch {
    return groupExists(pgid) ? [{ pid: pgid, state: '?', pgid, startTime: '' }] : [];
  }
  const stats = await Promise.all(pids.map((pid) => readProcStat(Number(pid))));
  return stats.filter((s): s is ProcStat => s !== undefined && s.pgid === pgid && s.state !== 'Z');
}

function groupExists(pgid: number): boolean {
  try {
    process.kill(-pgid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Send `signal` to every process in group `pgid`; false when the group no longer exists. */
export function signalGroup(pgid: number, signal: NodeJS.Signals): boolean {
  try {
    process.kill(-pgid, signal);
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ESRCH') return false;
    throw error;
  }
}

/**
 * Stop every process of group `pgid`: SIGTERM, then SIGKILL after `graceMs` for whatever is
 * left, then wait (up to `verifyMs`) until no live member remains. Returns the pids that
 * survived even SIGKILL (empty in practice; a process in uninterruptible sleep can linger).
 */
export async function killProcessGroup(
  pgid: number,
  opts: { graceMs: number; verifyMs?: number } = { graceMs: 2000 },
): Promise<number[]> {
  if (opts.graceMs > 0 && signalGroup(pgid, 'SIGTERM')) {
    const deadline = Date.now() + opts.graceMs;
    while (Date.now() < deadline && (await liveGroupMembers(pgid)).length > 0) await sleep(50);
  }
  signalGroup(pgid, 'SIGKILL');
  const deadline = Date.now() + (opts.verifyMs ?? 5000);
  for (;;) {
    const left = await liveGroupMembers(pgid);
    if (left.length === 0 || Date.now() > deadline) return left.map((s) => s.pid);
    // A member forked just before the signal can appear after it: kill again.
    signalGroup(pgid, 'SIGKILL');
    await sleep(50);
  }
}

/**
 * SIGKILL every process (other than this one) whose environment holds `entry` exactly, e.g.
 * `HOME=<job dir>/home`: catches what left the process group (`setsid`, daemons), as far as
 * it kept the environment it was given. Returns the pids signalled. Linux only; elsewhere none.
 */
export async function killProcessesWithEnv(entry: string): Promise<number[]> {
  let pids: string[];
  try {
    pids = (await readdir('/proc')).filter((name) => /^\d+$/.test(name) && Number(name) !== process.pid);
  } catch {
    return [];
  }
  const killed: number[] = [];
  await Promise.all(
    pids.map(async (pid) => {
      const environ = await readFile(`/proc/${pid}/environ`, 'utf8').catch(() => '');
      if (!environ.split('\0').includes(entry)) return;
      try {
        process.kill(Number(pid), 'SIGKILL');
        killed.push(Number(pid));
      } catch {
        // already gone
      }
    }),
  );
  return killed;
}
