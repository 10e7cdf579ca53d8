import { readdir, readlink, stat } from 'node:fs/promises';
import { execa } from 'execa';

/**
 * Whether `paths` (plus `alreadyUsed` bytes) hold more than `limit` bytes. Measured by GNU
 * `du`, which walks with directory descriptors and never follows a symlink: PR code still runs
 * while this looks, and may swap a directory for a link to `/` at any moment, or nest a tree
 * deeper than a path can name. What `du` cannot measure counts as over the limit.
 */
export async function diskUsageOver(paths: string[], limit: number, alreadyUsed = 0): Promise<boolean> {
  if (paths.length === 0) return alreadyUsed > limit;
  const result = await execa('du', ['-s', '-c', '-x', '-P', '-B1', '--', ...paths], {
    reject: false,
    stdin: 'ignore',
    timeout: 30_000,
  });
  const total = /^(\d+)\s+total$/m.exec(String(result.stdout))?.[1];
  if (total === undefined) return true;
  return Number(total) + alreadyUsed > limit;
}

/**
 * Bytes of files that `pids` hold open after deleting them: still on the disk, and in no
 * directory a walk could find.
 */
export async function deletedOpenBytes(pids: number[]): Promise<number> {
  let total = 0;
  const seen = new Set<string>();
  for (const pid of pids) {
    const fds = await readdir(`/proc/${pid}/fd`).catch(() => [] as string[]);
    for (const fd of fds) {
      const link = await readlink(`/proc/${pid}/fd/${fd}`).catch(() => '');
      if (!link.endsWith(' (deleted)') || !link.startsWith('/')) continue;
      const stats = await stat(`/proc/${pid}/fd/${fd}`).catch(() => undefined);
      if (!stats?.isFile()) continue;
      const id = `${stats.dev}:${stats.ino}`;
      if (seen.has(id)) continue;
      seen.add(id);
      total += stats.blocks * 512;
    }
  }
  return total;
}
