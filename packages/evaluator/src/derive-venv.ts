import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { lstat, open, readdir, readFile, readlink, rename, stat, symlink } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { PUBLISHED, readEnvRecord } from './env-cache-index.ts';
import { type FileOwner, removeTree } from './file-tree.ts';
import type { RequirementsPlan } from './plan-requirements.ts';

const execFileAsync = promisify(execFile);

/** The lines of a cache key (`prepare-python-env.ts`): `--pre`, requirements, `# constraints`, constraints. */
export function keyLinesOf(plan: RequirementsPlan): string[] {
  return [...(plan.pre ? ['--pre'] : []), ...plan.download, '# constraints', ...plan.constraints];
}

function split(lines: readonly string[]): { pre: boolean; download: string[]; constraints: string[] } {
  const marker = lines.indexOf('# constraints');
  const head = marker === -1 ? [...lines] : lines.slice(0, marker);
  return {
    pre: head.includes('--pre'),
    download: head.filter((l) => l !== '--pre'),
    constraints: marker === -1 ? [] : lines.slice(marker + 1),
  };
}

export interface ClosestEnv {
  key: string;
  /** The published environment's directory (its real path). */
  dir: string;
  /** Requirement lines the new environment has and it lacks: only these are downloaded. */
  missing: string[];
}

/**
 * The cached environment closest to `plan`, to derive a new one from: same interpreter, same
 * `--pre` and constraints, and requirement lines that are all lines of the new requirements,
 * word for word — the most of them wins. Not just the same projects: an environment built from
 * `tabulate==0.8.10` would satisfy a later `tabulate`, so one repository could choose the
 * versions every other repository's environment (published under the key a fresh build would
 * have) gets. With every line of theirs in ours, what it pins we pin too, and what it left free
 * was resolved fresh when it was built. Undefined when none qualifies.
 */
export async function findClosestEnv(
  venvsDir: string,
  python: { executable: string; version: string },
  plan: RequirementsPlan,
): Promise<ClosestEnv | undefined> {
  const wanted = new Set(plan.download);
  const constraints = JSON.stringify([...plan.constraints].sort());
  let best: (ClosestEnv & { common: number; usedAt: number }) | undefined;
  for (const name of await readdir(venvsDir).catch(() => [] as string[])) {
    if (!PUBLISHED.test(name)) continue;
    const record = await readEnvRecord(venvsDir, name);
    if (!record?.lines) continue;
    if (record.python.executable !== python.executable || record.python.version !== python.version) continue;
    const theirs = split(record.lines);
    if (theirs.pre !== plan.pre || JSON.stringify([...theirs.constraints].sort()) !== constraints) continue;
    if (!theirs.download.every((line) => wanted.has(line))) continue;
    const common = theirs.download.length;
    if (common === 0) continue;
    const dir = await readlink(join(venvsDir, name)).then(
      (target) => join(venvsDir, target),
      () => undefined,
    );
    if (!dir || !(await stat(join(dir, 'pyvenv.cfg')).catch(() => undefined))) continue;
    const usedAt = (await stat(join(venvsDir, `${name}.json`)).catch(() => undefined))?.mtimeMs ?? 0;
    if (best && (common < best.common || (common === best.common && usedAt <= best.usedAt))) continue;
    const have = new Set(theirs.download);
    best = { key: name, dir, missing: plan.download.filter((line) => !have.has(line)), common, usedAt };
  }
  if (!best) return undefined;
  const { key, dir, missing } = best;
  return { key, dir, missing };
}

/**
 * Copy the environment `from` to `to` (which must not exist) — as a reflink where the
 * filesystem can (a copy-on-write clone: instant, no space until written), else a plain copy —
 * and point its scripts and `pyvenv.cfg` at the new place (venvs hold absolute paths). For a
 * worker whose jobs run as the worker's own uid, which could write into a hard-linked file, and
 * wherever {@link linkEnv} refuses (a base file not the worker's, or writable by others).
 */
export async function copyEnv(from: string, to: string): Promise<void> {
  await execFileAsync('cp', ['-a', '--reflink=auto', '--', from, to], { maxBuffer: 16 * 1024 * 1024 });
  await repointEnv(from, to);
}

/**
 * Make `to` (which must not exist) the environment `from` as hard links: its directories
 * created fresh and handed to `job` (so the sandboxed `pip install` can add, remove and replace
 * files — an unlink and a create, a new inode), every file a link to the shared one's inode,
 * which stays the worker's and unwritable by group and others. The job can then neither write
 * into, chmod, chown nor utime a shared file: it is not their owner and has no write permission
 * (`linked-env.test.ts` shows each attempt failing). The few files holding the old path are
 * written as new files, never through a link. Seconds instead of a copy of every byte.
 *
 * Returns false, having made nothing, when a file of `from` is not the worker's or is writable
 * by group or others (an environment of an older evalbot, or changed by hand): its inodes could
 * not be shared safely; or when the filesystem would not link. The caller copies instead.
 */
export async function linkEnv(from: string, to: string, job: FileOwner): Promise<boolean> {
  const uid = process.getuid?.();
  if (uid === undefined || uid === job.uid) return false;
  const { stdout: unsafe } = await execFileAsync(
    'find',
    [from, '-type', 'f', '(', '!', '-uid', String(uid), '-o', '-perm', '/022', ')', '-print', '-quit'],
    { maxBuffer: 1024 * 1024 },
  );
  if (unsafe.trim() !== '') return false;
  try {
    await execFileAsync('cp', ['-a', '--link', '--', from, to], { maxBuffer: 16 * 1024 * 1024 });
  } catch {
    // A filesystem without hard links (or out of inodes): copy instead.
    await removeTree(to);
    return false;
  }
  await recreateSymlinks(to);
  await repointEnv(from, to);
  // Directories only: `-P`, and no file is touched, so no shared inode changes hands.
  await execFileAsync('find', [
    '-P',
    to,
    '-type',
    'd',
    '-exec',
    'chown',
    '-h',
    `${job.uid}:${job.gid}`,
    '{}',
    '+',
  ]);
  return true;
}

/**
 * Point the scripts and `pyvenv.cfg` of the environment copied from `from` to `to` at `to`. Runs
 * as the worker over a tree a job once wrote (a published environment is built by sandboxed
 * package code): nothing is followed — `bin` must be a real directory, only regular files are
 * read, and each new file is created under a random name that must not exist (O_EXCL: a planted
 * symlink is not written through), then renamed over the old name.
 */
async function repointEnv(from: string, to: string): Promise<void> {
  const rewrite = async (path: string) => {
    const info = await lstat(path);
    if (!info.isFile() || info.size > 1024 * 1024) return;
    const text = await readFile(path, 'latin1');
    if (!text.includes(from)) return;
    // A new file renamed over the old name: a hard link's inode is the shared environment's.
    const fresh = `${path}.evalbot-${randomBytes(8).toString('hex')}`;
    const handle = await open(fresh, 'wx', 0o600);
    try {
      await handle.writeFile(text.split(from).join(to), 'latin1');
      await handle.chmod(info.mode & 0o777);
    } finally {
      await handle.close();
    }
    await rename(fresh, path);
  };
  const bin = join(to, 'bin');
  if (!(await lstat(bin)).isDirectory()) {
    throw new Error(`${bin} is not a directory: ${from} is not an environment evalbot built`);
  }
  for (const name of await readdir(bin)) await rewrite(join(bin, name));
  await rewrite(join(to, 'pyvenv.cfg'));
}

/**
 * Replace each symlink of `dir` (hard-linked by `cp --link`: one inode with the shared
 * environment's, whose timestamps a job could set) with a fresh one to the same target.
 */
async function recreateSymlinks(dir: string): Promise<void> {
  const { stdout } = await execFileAsync('find', ['-P', dir, '-type', 'l', '-print0'], {
    maxBuffer: 64 * 1024 * 1024,
  });
  for (const path of stdout.split('\0').filter(Boolean)) {
    const fresh = `${path}.evalbot-${randomBytes(8).toString('hex')}`;
    await symlink(await readlink(path), fresh);
    await rename(fresh, path);
  }
}
