import { readFile } from 'node:fs/promises';

/**
 * CPU time a process has used so far (user + system), in milliseconds; with `children`, also
 * that of its waited-for children (the git and python commands a worker ran, the
 * `git http-backend` the stand-in ran). NaN once it is gone.
 */
export async function cpuMs(pid: number, opts: { children?: boolean } = {}): Promise<number> {
  try {
    const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command name (which may contain spaces) start at the state, field 3.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // utime, stime, cutime, cstime are fields 14 to 17, in clock ticks (100 per second on Linux).
    const used = fields.slice(11, opts.children ? 15 : 13).reduce((sum, ticks) => sum + Number(ticks), 0);
    return used * 10;
  } catch {
    return Number.NaN;
  }
}

/** Busy and total CPU time of the whole machine so far (all cores, from /proc/stat), in ticks. */
export async function machineCpuTicks(): Promise<{ busy: number; total: number }> {
  const line = (await readFile('/proc/stat', 'utf8')).split('\n')[0] ?? '';
  const values = line.trim().split(/\s+/).slice(1).map(Number);
  const total = values.reduce((a, b) => a + b, 0);
  // idle and iowait are the 4th and 5th values.
  const idle = (values[3] ?? 0) + (values[4] ?? 0);
  return { busy: total - idle, total };
}

/** The share of the machine's CPU time that was busy between two readings (0..1). */
export function busyShare(
  before: { busy: number; total: number },
  after: { busy: number; total: number },
): number {
  const total = after.total - before.total;
  return total > 0 ? (after.busy - before.busy) / total : Number.NaN;
}
