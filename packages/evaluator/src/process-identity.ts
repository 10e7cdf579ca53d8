import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { isProcessAlive } from './is-process-alive.ts';

/**
 * Who holds a lock or owns a job directory, precisely enough to tell a restart apart: a
 * container restarted under tini gets the same pid and hostname again, so the pid alone would
 * make the new process believe it still holds what its previous run left behind. The kernel's
 * boot id changes with each boot, and the start time (clock ticks after boot) with each process.
 */
export interface ProcessIdentity {
  pid: number;
  host: string;
  /** `/proc/sys/kernel/random/boot_id`; absent where there is no /proc. */
  bootId?: string;
  /** Field 22 of `/proc/<pid>/stat`; absent where there is no /proc. */
  startTime?: string;
}

let bootIdCache: string | undefined | null = null;

function bootId(): string | undefined {
  if (bootIdCache === null) {
    try {
      bootIdCache = readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim() || undefined;
    } catch {
      bootIdCache = undefined;
    }
  }
  return bootIdCache;
}

/** Start time of `pid` in clock ticks after boot, or undefined when it is gone or /proc is absent. */
export function processStartTime(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19] || undefined;
  } catch {
    return undefined;
  }
}

/** This process's identity. */
export function currentProcessIdentity(): ProcessIdentity {
  const id: ProcessIdentity = { pid: process.pid, host: hostname() };
  const boot = bootId();
  const start = processStartTime(process.pid);
  if (boot) id.bootId = boot;
  if (start) id.startTime = start;
  return id;
}

/**
 * Whether the process `holder` names still runs, as far as this host can tell: `'alive'`,
 * `'dead'`, or `'elsewhere'` for another host (the caller decides by age). A holder from an
 * earlier boot, or whose pid now belongs to a process started at another time (a restart that
 * got the same pid, or pid reuse), is dead. A holder recorded without a start time (written by
 * an older version) that names this very process is dead too: this process records its start
 * time, so it cannot have written it.
 */
export function holderState(holder: ProcessIdentity): 'alive' | 'dead' | 'elsewhere' {
  if (holder.host !== hostname()) return 'elsewhere';
  if (!Number.isInteger(holder.pid) || holder.pid <= 0) return 'dead';
  const mine = currentProcessIdentity();
  if (holder.bootId && mine.bootId && holder.bootId !== mine.bootId) return 'dead';
  if (holder.pid === process.pid) {
    // Without /proc there is no start time to compare: the pid is all there is.
    if (mine.startTime === undefined) return 'alive';
    return holder.startTime === mine.startTime ? 'alive' : 'dead';
  }
  if (!isProcessAlive(holder.pid)) return 'dead';
  if (holder.startTime) {
    const now = processStartTime(holder.pid);
    if (now !== undefined && now !== holder.startTime) return 'dead';
  }
  return 'alive';
}
