import { existsSync, readFileSync } from 'node:fs';

/**
 * Whether a process with this pid is running on this host. A zombie counts as dead: where pid 1
 * does not reap orphans (some container inits), a killed worker can stay a zombie forever.
 */
export function isProcessAlive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
  } catch (error) {
    // EPERM: it exists, owned by someone else.
    if ((error as NodeJS.ErrnoException).code !== 'EPERM') return false;
  }
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    // Gone since kill(0), or no /proc at all (macOS), where kill(0) is all we know.
    return !existsSync('/proc/self/stat');
  }
}
