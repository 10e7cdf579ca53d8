import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import {
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
import { join } from 'node:path';
import { promisify } from 'node:util';
import { removeTree } from './file-tree.ts';
import { currentProcessIdentity, holderState, type ProcessIdentity } from './process-identity.ts';

/**
 * What the worker records beside a published environment `<key>` in `venvs/`: `<key>.json`.
 * Written by the worker after the build, outside the environment (which a build's sandbox
 * could write), so a job cannot misdescribe an environment another job derives from.
 * Its mtime is the environment's last use.
 */
export interface EnvRecord {
  python: { executable: string; version: string };
  /** The requirement lines it was built from (the cache key's), `null` when not known. */
  lines: string[] | null;
  /** Apparent size of its files, in bytes (hard links to another environment's included). */
  bytes: number;
  /**
   * Its files are hard links to another environment's (`linkEnv`): the cache's size is then
   * counted by inode, each shared file once, and evicting it frees only what is its alone.
   */
  linked?: boolean;
}

const execFileAsync = promisify(execFile);
const LEASE = /^(.+)\.lease-[0-9a-f]+$/;
/** A published environment's link (`venvKey`): `py3.11.7-<16 hex>`. */
export const PUBLISHED = /^py[0-9.]+-[0-9a-f]{16}$/;
/** A lease of another host is honoured this long after its last renewal (none are renewed). */
const FOREIGN_LEASE_MS = 24 * 3600_000;

export async function writeEnvRecord(venvsDir: string, key: string, record: EnvRecord): Promise<void> {
  const path = join(venvsDir, `${key}.json`);
  await writeFile(`${path}.tmp`, JSON.stringify(record));
  await rename(`${path}.tmp`, path);
}

export async function readEnvRecord(venvsDir: string, key: string): Promise<EnvRecord | undefined> {
  try {
    const parsed = JSON.parse(await readFile(join(venvsDir, `${key}.json`), 'utf8')) as EnvRecord;
    return typeof parsed.bytes === 'number' && parsed.python ? parsed : undefined;
  } catch {
    return undefined;
  }
}

/** Mark `key` as used now (least-recently-used eviction goes by this). */
export async function touchEnv(venvsDir: string, key: string): Promise<void> {
  const now = new Date();
  await utimes(join(venvsDir, `${key}.json`), now, now).catch(() => {});
}

/**
 * Apparent size of a tree's files (not its directories), without following symlinks. `find`
 * rather than an lstat per file from Node: TensorFlow's environment is ~22,000 files, 2.3 s from
 * Node on a busy machine against 0.2 s, and a derived environment is measured after each build.
 */
export async function treeBytes(dir: string): Promise<number> {
  const { stdout } = await execFileAsync('find', ['-P', dir, '!', '-type', 'd', '-printf', '%s\\n'], {
    maxBuffer: 64 * 1024 * 1024,
  }).catch(() => ({ stdout: '' }));
  let total = 0;
  for (const line of stdout.split('\n')) if (line !== '') total += Number(line);
  return total;
}

/**
 * Hold `key` while a job uses it: eviction leaves an environment with a live lease alone.
 * Returns the release. The caller checks the environment is still published after leasing
 * (see {@link evictToBound} for why that order is safe).
 */
export async function leaseEnv(venvsDir: string, key: string): Promise<() => Promise<void>> {
  const path = join(venvsDir, `${key}.lease-${randomBytes(6).toString('hex')}`);
  await writeFile(path, JSON.stringify(currentProcessIdentity()));
  return () => unlink(path).catch(() => {});
}

async function liveLeases(venvsDir: string, names: string[]): Promise<Set<string>> {
  const held = new Set<string>();
  for (const name of names) {
    const key = LEASE.exec(name)?.[1];
    if (!key) continue;
    const path = join(venvsDir, name);
    try {
      const holder = JSON.parse(await readFile(path, 'utf8')) as ProcessIdentity;
      const state = holderState(holder);
      const age = Date.now() - (await stat(path)).mtimeMs;
      if (state === 'alive' || (state === 'elsewhere' && age < FOREIGN_LEASE_MS)) held.add(key);
      else await unlink(path).catch(() => {});
    } catch {
      // Being written right now: count it as held.
      held.add(key);
    }
  }
  return held;
}

export interface EvictionResult {
  /** Size of the environments left, in bytes. */
  bytes: number;
  evicted: string[];
}

/**
 * Remove the least recently used published environments until the rest fit in `maxBytes`
 * (0: no bound), never one in `keep` nor one a job holds a lease on. An environment is first
 * unpublished (its link removed, so no new job finds it), then its leases are read: a job
 * leases before it checks the link, so either the evictor sees the lease (and publishes the
 * environment again) or the job sees the link gone (and looks again, building it if need be).
 */
export async function evictToBound(
  venvsDir: string,
  maxBytes: number,
  keep: readonly string[] = [],
): Promise<EvictionResult> {
  const names = await readdir(venvsDir).catch(() => [] as string[]);
  const envs: { key: string; bytes: number; usedAt: number; target: string; linked: boolean }[] = [];
  for (const name of names) {
    if (!PUBLISHED.test(name)) continue;
    const target = await readlink(join(venvsDir, name)).catch(() => undefined);
    if (!target) continue;
    let record = await readEnvRecord(venvsDir, name);
    if (!record) {
      // Published before records were kept: measure it once.
      record = {
        python: { executable: '', version: '' },
        lines: null,
        bytes: await treeBytes(join(venvsDir, target)),
      };
      await writeEnvRecord(venvsDir, name, record);
    }
    const usedAt = (await stat(join(venvsDir, `${name}.json`)).catch(() => undefined))?.mtimeMs ?? 0;
    envs.push({ key: name, bytes: record.bytes, usedAt, target, linked: record.linked === true });
  }
  // With linked environments, records would count a shared file once per link: count inodes.
  const usage = envs.some((e) => e.linked)
    ? await inodeUsage(envs.map((e) => ({ key: e.key, dir: join(venvsDir, e.target) })))
    : undefined;
  let bytes = usage ? usage.total : envs.reduce((sum, e) => sum + e.bytes, 0);
  const evicted: string[] = [];
  if (maxBytes <= 0 || bytes <= maxBytes) return { bytes, evicted };
  envs.sort((a, b) => a.usedAt - b.usedAt);
  for (const env of envs) {
    if (bytes <= maxBytes) break;
    if (keep.includes(env.key)) continue;
    const link = join(venvsDir, env.key);
    if (
      !(await unlink(link).then(
        () => true,
        () => false,
      ))
    )
      continue;
    const held = await liveLeases(venvsDir, await readdir(venvsDir).catch(() => [] as string[]));
    if (held.has(env.key)) {
      await symlink(env.target, link).catch(() => {});
      continue;
    }
    await unlink(join(venvsDir, `${env.key}.json`)).catch(() => {});
    await removeTree(join(venvsDir, env.target));
    bytes -= usage ? usage.release(env.key) : env.bytes;
    evicted.push(env.key);
  }
  return { bytes, evicted };
}

/**
 * The size of environments some of which share files by hard links: each inode once (`total`),
 * and `release(key)`, the bytes an environment's removal frees — its own files, and the shared
 * ones no other environment still links to.
 */
async function inodeUsage(
  envs: { key: string; dir: string }[],
): Promise<{ total: number; release: (key: string) => number }> {
  const own = new Map<string, number>();
  const shared = new Map<string, { size: number; keys: Set<string> }>();
  for (const { key, dir } of envs) {
    // What treeBytes counts (everything but directories), with link counts and inode numbers.
    const { stdout } = await execFileAsync(
      'find',
      ['-P', dir, '!', '-type', 'd', '-printf', '%n %D:%i %s\\n'],
      {
        maxBuffer: 256 * 1024 * 1024,
      },
    ).catch(() => ({ stdout: '' }));
    let mine = 0;
    for (const line of stdout.split('\n')) {
      const [links, inode, size] = line.split(' ');
      if (!links || !inode || size === undefined) continue;
      if (links === '1') {
        mine += Number(size);
        continue;
      }
      const entry = shared.get(inode) ?? { size: Number(size), keys: new Set<string>() };
      entry.keys.add(key);
      shared.set(inode, entry);
    }
    own.set(key, mine);
  }
  let total = [...own.values()].reduce((sum, n) => sum + n, 0);
  for (const entry of shared.values()) total += entry.size;
  return {
    total,
    release: (key) => {
      let freed = own.get(key) ?? 0;
      for (const entry of shared.values()) {
        if (entry.keys.delete(key) && entry.keys.size === 0) freed += entry.size;
      }
      return freed;
    },
  };
}
