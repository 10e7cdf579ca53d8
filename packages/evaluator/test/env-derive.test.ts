import { mkdir, readdir, readFile, readlink, symlink, utimes, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { evictToBound, leaseEnv, writeEnvRecord } from '../src/env-cache-index.ts';
import { evaluateFiles, type RepoFile, removedAfterEach, tempDir, treeSnapshot } from './helpers.ts';

const remove = removedAfterEach();

async function freshCache(): Promise<string> {
  const dir = await tempDir('cache');
  remove(dir);
  return dir;
}

/** Imports each of `modules` and writes where each came from. */
function modelUsing(requirements: string, modules: string[]): Record<string, RepoFile> {
  return {
    'requirements.txt': requirements,
    'demo.py': `import json, importlib\nfound = {}\nfor m in ${JSON.stringify(modules)}:\n    try:\n        importlib.import_module(m); found[m] = 1\n    except ImportError:\n        found[m] = 0\njson.dump(found, open("result.txt", "w"))\n`,
  };
}

async function publishedEnvs(cacheDir: string): Promise<string[]> {
  const names = await readdir(join(cacheDir, 'venvs')).catch(() => [] as string[]);
  return names.filter((n) => /^py[0-9.]+-[0-9a-f]{16}$/.test(n)).sort();
}

function evaluate(files: Record<string, RepoFile>, cacheDir: string, cacheMaxBytes?: number) {
  return evaluateFiles(
    files,
    { cacheDir, maxTimeoutMs: 300_000, ...(cacheMaxBytes ? { cacheMaxBytes } : {}) },
    remove,
  );
}

describe('environments derived from the closest cached one', () => {
  it('installs only an added requirement into an environment derived from the cached one, which stays unchanged', async () => {
    const cacheDir = await freshCache();
    const first = await evaluate(modelUsing('six\n', ['six', 'toml']), cacheDir);
    expect(first).toMatchObject({
      ok: true,
      environmentReused: false,
      runs: [{ metrics: { six: 1, toml: 0 } }],
    });
    expect(first.environmentDerivedFrom).toBeUndefined();
    const [sharedKey] = await publishedEnvs(cacheDir);
    const shared = join(cacheDir, 'venvs', await readlink(join(cacheDir, 'venvs', sharedKey ?? '')));
    const before = await treeSnapshot(shared);

    const bumped = await evaluate(modelUsing('six\ntoml\n', ['six', 'toml']), cacheDir);
    expect(bumped).toMatchObject({
      ok: true,
      environmentReused: false,
      environmentDerivedFrom: sharedKey,
      runs: [{ metrics: { six: 1, toml: 1 } }],
    });
    expect(await treeSnapshot(shared)).toEqual(before);
    expect(await publishedEnvs(cacheDir)).toHaveLength(2);
    console.info(
      `environment timings: built from nothing ${first.durations.setup} ms, derived (links or a copy + one package) ${bumped.durations.setup} ms`,
    );
    // The derived environment is a cache entry like any other: the next job reuses it whole.
    const again = await evaluate(modelUsing('six\ntoml\n', ['toml']), cacheDir);
    expect(again).toMatchObject({ ok: true, environmentReused: true, runs: [{ metrics: { toml: 1 } }] });
  });

  it('builds from nothing rather than keep a package the new requirements dropped', async () => {
    const cacheDir = await freshCache();
    await evaluate(modelUsing('six\ntoml\n', ['six', 'toml']), cacheDir);
    const dropped = await evaluate(modelUsing('six\n', ['six', 'toml']), cacheDir);
    expect(dropped).toMatchObject({ ok: true, runs: [{ metrics: { six: 1, toml: 0 } }] });
    expect(dropped.environmentDerivedFrom).toBeUndefined();
  });

  it("never derives from an environment whose lines are not all the new requirements' own: one repository cannot choose another's versions", async () => {
    // What tabulate a fresh build of the victim's requirements gets.
    const tabulateMinor = (r: Awaited<ReturnType<typeof evaluate>>) =>
      r.ok ? r.runs[0]?.metrics.minor : undefined;
    const victimFiles = {
      'requirements.txt': 'six\ntabulate\n',
      'demo.py':
        'import json, importlib.metadata as m\njson.dump({"minor": int(m.version("tabulate").split(".")[1])}, open("result.txt", "w"))\n',
    };
    const fresh = await evaluate(victimFiles, await freshCache());
    const cacheDir = await freshCache();
    // An attacker's repository pins an old version; its environment is cached on the worker.
    const attacker = await evaluate(
      { ...victimFiles, 'requirements.txt': 'six\ntabulate==0.8.10\n' },
      cacheDir,
    );
    expect(tabulateMinor(attacker)).toBe(8);
    const victim = await evaluate(victimFiles, cacheDir);
    expect(victim.environmentDerivedFrom).toBeUndefined();
    expect(tabulateMinor(victim)).toBe(tabulateMinor(fresh));
    expect(tabulateMinor(fresh)).not.toBe(8);
  });

  it('keeps the cache under EVALBOT_CACHE_MAX_GB when filled past it, the newest environment kept', async () => {
    const cacheDir = await freshCache();
    const sizes: number[] = [];
    const first = await evaluate(modelUsing('six\n', ['six']), cacheDir);
    expect(first.ok).toBe(true);
    // Room for about one and a half environments of this size.
    const one = Number(
      (await readFile(join(cacheDir, 'venvs', `${(await publishedEnvs(cacheDir))[0]}.json`), 'utf8')).match(
        /"bytes":(\d+)/,
      )?.[1],
    );
    const bound = Math.round(one * 1.5);
    for (const requirements of ['toml\n', 'idna\n']) {
      const result = await evaluateFiles(
        modelUsing(requirements, ['six']),
        {
          cacheDir,
          maxTimeoutMs: 300_000,
          cacheMaxBytes: bound,
          onCacheSize: ({ bytes, maxBytes }) => {
            sizes.push(bytes);
            expect(maxBytes).toBe(bound);
          },
        },
        remove,
      );
      expect(result.ok).toBe(true);
    }
    expect(sizes).toHaveLength(2);
    for (const bytes of sizes) expect(bytes).toBeLessThanOrEqual(bound);
    expect(await publishedEnvs(cacheDir)).toHaveLength(1);
  });
});

describe('evictToBound', () => {
  /** A published environment of `bytes`, last used `ageSeconds` ago. */
  async function fakeEnv(venvs: string, key: string, bytes: number, ageSeconds: number) {
    const dir = join(venvs, `${key}@1-abc`);
    await mkdir(dir, { recursive: true });
    await writeFile(join(dir, 'pyvenv.cfg'), '');
    await writeFile(join(dir, 'blob'), Buffer.alloc(bytes));
    await symlink(`${key}@1-abc`, join(venvs, key));
    await writeEnvRecord(venvs, key, { python: { executable: 'p', version: '3' }, lines: [], bytes });
    const at = new Date(Date.now() - ageSeconds * 1000);
    await utimes(join(venvs, `${key}.json`), at, at);
  }

  it('removes the least recently used first, never one in use by a job, until the rest fit', async () => {
    const venvs = await tempDir('venvs');
    remove(venvs);
    const [a, b, c, d] = [
      'py3.11.2-000000000000000a',
      'py3.11.2-000000000000000b',
      'py3.11.2-000000000000000c',
      'py3.11.2-000000000000000d',
    ];
    await fakeEnv(venvs, a as string, 1000, 400);
    await fakeEnv(venvs, b as string, 1000, 300);
    await fakeEnv(venvs, c as string, 1000, 200);
    await fakeEnv(venvs, d as string, 1000, 100);
    const release = await leaseEnv(venvs, a as string);
    const result = await evictToBound(venvs, 2500, [d as string]);
    expect(result).toEqual({ bytes: 2000, evicted: [b, c] });
    const left = (await readdir(venvs)).filter((n) => /^py[0-9.]+-[0-9a-f]{16}$/.test(n)).sort();
    expect(left).toEqual([a, d]);
    await release();
    // Released, the oldest goes next time the cache is over its bound.
    expect(await evictToBound(venvs, 1500, [d as string])).toEqual({ bytes: 1000, evicted: [a] });
  });
});
