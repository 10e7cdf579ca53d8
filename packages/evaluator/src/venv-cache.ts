import { createHash, randomBytes } from 'node:crypto';
import {
  link,
  lstat,
  mkdir,
  readdir,
  readFile,
  readlink,
  rename,
  stat,
  symlink,
  unlink,
  utimes,
  writeFile,
} from 'node:fs/promises';
import { basename, join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { removeTree } from './file-tree.ts';
import { isProcessAlive } from './is-process-alive.ts';
import { currentProcessIdentity, holderState, type ProcessIdentity } from './process-identity.ts';

/** What a build returned: ready, or the caller's own description of the failure. */
export type BuildResult<F> = { ok: true } | { ok: false; failure: F };

export type EnsureVenvResult<F> =
  | { status: 'ready'; dir: string; reused: boolean }
  | { status: 'failed'; failure: F }
  | { status: 'timed-out' }
  | { status: 'cancelled' };

interface LockInfo extends ProcessIdentity {
  nonce: string;
  since: number;
  /** When its holder last renewed it (the file's mtime), as read by a waiter. */
  renewed?: number;
}

/**
 * The cache key of an environment: the interpreter (path and version) and the plan's key lines
 * (`keyLinesOf`: `--pre`, requirements, `# constraints`, constraints), each as it is — the
 * marker included, so a requirement and the same line as a constraint are told apart.
 * Readable prefix, hash suffix: `py3.11.7-<16 hex>`. v4: v3 dropped the marker as a comment,
 * so one repository's requirements could take the key of another's requirements plus
 * constraints and decide what its environment held; v1/v2 were installed with the network.
 */
export function venvKey(
  python: { executable: string; version: string },
  keyLines: readonly string[],
): string {
  const hash = createHash('sha256')
    .update(`evalbot-venv-v4\0${python.executable}\0${python.version}\0${JSON.stringify(keyLines)}`)
    .digest('hex');
  return `py${python.version}-${hash.slice(0, 16)}`;
}

/** Logical lines of a requirements file (continuations joined), without comments or blanks. */
export function requirementLines(text: string): string[] {
  return text
    .replace(/\\\r?\n/g, ' ')
    .split(/\r?\n/)
    .map((line) => line.replace(/(^|\s)#.*$/, '').trim())
    .filter((line) => line !== '');
}

/**
 * Return the cached environment `key` under `venvsDir`, building it with `build` when it is
 * not there. Safe across processes: one builder at a time per key (an `O_EXCL` lock file
 * naming its pid, boot and start time; a dead builder's lock is broken at once, even one left
 * by an earlier run of a restarted container that got the same pid), and an environment becomes visible only
 * when complete, by an atomic symlink `<key>` → `<key>@<pid>-<nonce>` made after `build`
 * succeeded. A builder killed midway leaves a directory that the next builder removes.
 * Environments are built at their final path because venvs hold absolute paths.
 */
export async function ensureCachedVenv<F>(opts: {
  venvsDir: string;
  key: string;
  build: (dir: string) => Promise<BuildResult<F>>;
  deadline?: number | undefined;
  signal?: AbortSignal | undefined;
  /**
   * A lock from another host (another container on the shared cache volume, or a container
   * recreated with a new hostname) is abandoned when its holder has not renewed it for this
   * long. Default 3 min.
   */
  foreignLockStaleMs?: number;
  /** How often a builder renews its lock (the lock file's mtime). Default 30 s. */
  heartbeatMs?: number;
  onWait?: (holder: string) => void;
  pollMs?: number;
}): Promise<EnsureVenvResult<F>> {
  const { venvsDir, key } = opts;
  await mkdir(venvsDir, { recursive: true });
  const link = join(venvsDir, key);
  const lockPath = join(venvsDir, `${key}.lock`);
  let announced = false;
  for (;;) {
    const ready = await readyTarget(link);
    if (ready) return { status: 'ready', dir: ready, reused: true };
    if (opts.signal?.aborted) return { status: 'cancelled' };
    if (opts.deadline !== undefined && Date.now() > opts.deadline) return { status: 'timed-out' };

    const lock: LockInfo = {
      ...currentProcessIdentity(),
      nonce: randomBytes(6).toString('hex'),
      since: Date.now(),
    };
    if (await tryLock(lockPath, lock)) {
      // Renewed while held, so that a waiter on another host (which cannot see our pid) can
      // tell a long build from an abandoned one.
      const heartbeat = setInterval(() => {
        const now = new Date();
        utimes(lockPath, now, now).catch(() => {});
      }, opts.heartbeatMs ?? 30_000);
      heartbeat.unref();
      try {
        return await buildLocked(opts, link, lock);
      } finally {
        clearInterval(heartbeat);
        await releaseLock(lockPath, lock);
      }
    }
    const holder = await readLock(lockPath);
    if (holder === 'gone') continue;
    if (holder !== 'unreadable' && isAbandoned(holder, opts.foreignLockStaleMs ?? 3 * 60_000)) {
      await breakLock(lockPath, holder);
      continue;
    }
    if (!announced) {
      announced = true;
      opts.onWait?.(holder === 'unreadable' ? 'another worker' : `pid ${holder.pid} on ${holder.host}`);
    }
    await sleep(opts.pollMs ?? 250);
  }
}

async function buildLocked<F>(
  opts: { venvsDir: string; key: string; build: (dir: string) => Promise<BuildResult<F>> },
  link: string,
  lock: LockInfo,
): Promise<EnsureVenvResult<F>> {
  const ready = await readyTarget(link);
  if (ready) return { status: 'ready', dir: ready, reused: true };
  // A dangling link (its environment deleted by hand) would block publishing.
  if (
    await lstat(link).then(
      () => true,
      () => false,
    )
  )
    await unlink(link).catch(() => {});
  await removeAbandonedBuilds(opts.venvsDir, opts.key);
  const dir = join(opts.venvsDir, `${opts.key}@${lock.pid}-${lock.nonce}`);
  let published = false;
  try {
    const result = await opts.build(dir);
    if (!result.ok) return { status: 'failed', failure: result.failure };
    try {
      await symlink(basename(dir), link);
      published = true;
      return { status: 'ready', dir, reused: false };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      // Another builder published first (its lock was wrongly judged stale): use theirs.
      const theirs = await readyTarget(link);
      if (!theirs) throw error;
      return { status: 'ready', dir: theirs, reused: true };
    }
  } finally {
    if (!published) await removeTree(dir);
  }
}

/** The complete environment behind `link`, or undefined. */
async function readyTarget(link: string): Promise<string | undefined> {
  try {
    const target = join(link, '..', await readlink(link));
    if ((await stat(join(target, 'pyvenv.cfg'))).isFile()) return target;
  } catch {
    // not there (yet)
  }
  return undefined;
}

async function tryLock(path: string, info: LockInfo): Promise<boolean> {
  try {
    await writeFile(path, JSON.stringify(info), { flag: 'wx' });
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw error;
  }
}

/**
 * Remove the lock `holder` left, and only that one: it is renamed first so that only one waiter
 * removes it, and put back if, between our reading and the rename, another waiter had already
 * broken it and taken a lock of its own.
 */
export async function breakLock(lockPath: string, holder: LockInfo): Promise<void> {
  const stale = `${lockPath}.stale-${randomBytes(4).toString('hex')}`;
  const renamed = await rename(lockPath, stale).then(
    () => true,
    () => false,
  );
  if (!renamed) return;
  const moved = await readLock(stale);
  if (typeof moved === 'object' && moved.nonce !== holder.nonce) {
    // A live lock: back where it was, unless yet another lock was taken meanwhile.
    await link(stale, lockPath).catch(() => {});
  }
  await unlink(stale).catch(() => {});
}

async function readLock(path: string): Promise<LockInfo | 'gone' | 'unreadable'> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return 'gone';
    return 'unreadable';
  }
  try {
    const info = JSON.parse(text) as LockInfo;
    if (Number.isInteger(info.pid) && typeof info.host === 'string') {
      // The last heartbeat; a lock written before heartbeats existed has only its mtime too.
      const renewed = await stat(path).then(
        (s) => s.mtimeMs,
        () => info.since,
      );
      return { ...info, renewed };
    }
  } catch {
    // A lock being written right now is empty for an instant.
  }
  const age = await stat(path).then(
    (s) => Date.now() - s.mtimeMs,
    () => 0,
  );
  return age > 60_000 ? { ...currentProcessIdentity(), pid: -1, nonce: '', since: 0 } : 'unreadable';
}

function isAbandoned(holder: LockInfo, foreignStaleMs: number): boolean {
  const state = holderState(holder);
  if (state === 'elsewhere') return Date.now() - (holder.renewed ?? holder.since) > foreignStaleMs;
  return state === 'dead';
}

async function releaseLock(path: string, mine: LockInfo): Promise<void> {
  const current = await readLock(path);
  if (typeof current === 'object' && current.nonce === mine.nonce) await unlink(path).catch(() => {});
}

/** Build directories of `key` whose builder is dead (we hold the lock, so none is running here). */
async function removeAbandonedBuilds(venvsDir: string, key: string): Promise<void> {
  const prefix = `${key}@`;
  const published = await readlink(join(venvsDir, key)).catch(() => undefined);
  for (const name of await readdir(venvsDir)) {
    if (!name.startsWith(prefix) || name === published) continue;
    const pid = Number(name.slice(prefix.length).split('-')[0]);
    if (pid === process.pid || !isProcessAlive(pid)) await removeTree(join(venvsDir, name));
  }
}
