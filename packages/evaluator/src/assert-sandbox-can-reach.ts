import { mkdir } from 'node:fs/promises';
import { assertReachableBy } from './file-tree.ts';

/**
 * Sandbox uids must reach what is bound into the sandbox: bubblewrap starts as the job's uid,
 * so every directory above the work and cache directories and the interpreter needs o+x.
 * Only a root worker has such uids; otherwise there is nothing to check.
 */
export async function assertSandboxCanReach(paths: {
  workRoot: string;
  cacheDir: string;
  /** The interpreter's real path. */
  python: string;
}): Promise<void> {
  if (process.getuid?.() !== 0) return;
  // A uid no file belongs to: what it can reach, every sandbox uid can.
  const anyone = { uid: 2 ** 31 - 2, gid: 2 ** 31 - 2 };
  const who = 'the sandbox uids';
  await mkdir(paths.workRoot, { recursive: true });
  await mkdir(paths.cacheDir, { recursive: true });
  await assertReachableBy(paths.workRoot, anyone, 'the work directory (EVALBOT_WORK_DIR)', who);
  await assertReachableBy(paths.cacheDir, anyone, 'the cache directory (EVALBOT_CACHE_DIR)', who);
  await assertReachableBy(paths.python, anyone, 'the Python interpreter (EVALBOT_PYTHON)', who);
}
