import {
  chmod,
  chown,
  lstat,
  mkdir,
  readdir,
  readFile,
  readlink,
  stat,
  symlink,
  writeFile,
} from 'node:fs/promises';
import { join } from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { linkEnv } from '../src/derive-venv.ts';
import { evictToBound, writeEnvRecord } from '../src/env-cache-index.ts';
import { createSandbox, type Sandbox } from '../src/index.ts';
import type { SandboxIdentity } from '../src/sandbox/index.ts';
import { evaluateFiles, makeFakeIndex, removedAfterEach, tempDir, treeSnapshot } from './helpers.ts';

// A derived environment is hard links to the cached one it came from (a root worker: jobs run
// as uids of their own). The sandboxed `pip install` writes it as the job's uid, so each test
// here is something that job could try against a linked, shared file.

const remove = removedAfterEach();
const asRoot = process.getuid?.() === 0;
const PUBLISHED = /^py[0-9.]+-[0-9a-f]{16}$/;

async function publishedDirs(cacheDir: string): Promise<Map<string, string>> {
  const venvs = join(cacheDir, 'venvs');
  const dirs = new Map<string, string>();
  for (const name of (await readdir(venvs)).filter((n) => PUBLISHED.test(n)).sort()) {
    dirs.set(name, join(venvs, await readlink(join(venvs, name))));
  }
  return dirs;
}

const sixModel = (requirements: string) => ({
  'requirements.txt': requirements,
  'demo.py':
    'import json, six, importlib.util as u\njson.dump({"toml": int(u.find_spec("toml") is not None)}, open("result.txt", "w"))\n',
});

describe.runIf(asRoot)('environments derived as hard links', () => {
  let cacheDir: string;
  let base: string;
  let sitePackages: string;
  let sandbox: Sandbox;
  let identity: SandboxIdentity;
  let sizes: number[];

  beforeAll(async () => {
    cacheDir = await tempDir('cache');
    sizes = [];
    const options = {
      cacheDir,
      maxTimeoutMs: 300_000,
      onCacheSize: ({ bytes }: { bytes: number }) => {
        sizes.push(bytes);
      },
    };
    const first = await evaluateFiles(sixModel('six\n'), options, remove);
    expect(first).toMatchObject({ ok: true, runs: [{ metrics: { toml: 0 } }] });
    const [only] = [...(await publishedDirs(cacheDir)).values()];
    base = only ?? '';
    const lib = (await readdir(join(base, 'lib')))[0] ?? '';
    sitePackages = join(base, 'lib', lib, 'site-packages');
    sandbox = await createSandbox();
    identity = await sandbox.leaseIdentity();
  }, 300_000);

  afterAll(async () => {
    await identity?.release();
    if (cacheDir) await execa('rm', ['-rf', cacheDir]);
  });

  /** Run `script` with the linked environment `env`'s Python in the sandbox, as the job, `env` writable. */
  async function asJob(env: string, script: string, readOnly: string[] = []) {
    const command = await sandbox.command(
      [join(env, 'bin', 'python'), '-I', '-c', script],
      { readOnly, writable: [env], cwd: env },
      identity,
    );
    const [file, ...args] = command.argv;
    return execa(file, args, {
      stdio: ['ignore', 'pipe', 'pipe', 'pipe'],
      reject: false,
      extendEnv: false,
      env: { PATH: '/usr/bin:/bin', HOME: '/tmp', PIP_NO_CACHE_DIR: '1', PIP_DISABLE_PIP_VERSION_CHECK: '1' },
    });
  }

  it('derives a bumped environment as links to the cached one, counted once in the cache size', async () => {
    const before = await treeSnapshot(base, { times: true });
    const bumped = await evaluateFiles(
      sixModel('six\ntoml\n'),
      {
        cacheDir,
        maxTimeoutMs: 300_000,
        onCacheSize: ({ bytes }) => {
          sizes.push(bytes);
        },
      },
      remove,
    );
    expect(bumped).toMatchObject({ ok: true, environmentReused: false, runs: [{ metrics: { toml: 1 } }] });
    expect(bumped.environmentDerivedFrom).toBe(base.split('/').pop()?.split('@')[0]);
    // The other environment's key (a hash of another repository's requirements) is not in the PR's log.
    expect(bumped.logTail).toContain('from a cached one');
    expect(bumped.logTail).not.toContain(bumped.environmentDerivedFrom);
    const derived = [...(await publishedDirs(cacheDir)).values()].find((d) => d !== base) ?? '';
    const rel = sitePackages.slice(base.length);
    const [shared, linked] = await Promise.all([
      stat(join(sitePackages, 'six.py')),
      stat(join(derived, rel, 'six.py')),
    ]);
    expect(linked.ino).toBe(shared.ino);
    // Handed back whole: nothing of the derived environment is left to the job's uid.
    const { stdout: notWorkers } = await execa('find', [derived, '!', '-uid', '0']);
    expect(notWorkers).toBe('');
    expect(await treeSnapshot(base, { times: true })).toEqual(before);
    // The shared files count once: the cache grew by toml and the scripts, not by a second six.
    const records = await Promise.all(
      [...(await publishedDirs(cacheDir)).keys()].map(
        async (key) =>
          JSON.parse(await readFile(join(cacheDir, 'venvs', `${key}.json`), 'utf8')) as { bytes: number },
      ),
    );
    const [first, second] = records.map((r) => r.bytes).sort((a, b) => a - b);
    const cacheBytes = sizes.at(-1) ?? 0;
    expect(cacheBytes).toBeLessThan((first ?? 0) + (second ?? 0) - (first ?? 0) / 2);
    expect(cacheBytes).toBeGreaterThanOrEqual(second ?? 0);
  }, 300_000);

  it("stops the job's writes into, chmod, chown and utime of a linked file; the shared one is unchanged", async () => {
    expect((await lstat(join(base, 'bin', 'python'))).isSymbolicLink()).toBe(true);
    const before = await treeSnapshot(base, { times: true });
    const derived = join(cacheDir, 'venvs', 'attack-target');
    expect(await linkEnv(base, derived, identity)).toBe(true);
    const rel = sitePackages.slice(base.length);
    const target = join(derived, rel, 'six.py');
    const result = await asJob(
      derived,
      `import os, json
target = ${JSON.stringify(target)}
tried = {}
def attempt(name, fn):
    try:
        fn(); tried[name] = "done"
    except OSError as e:
        tried[name] = type(e).__name__
attempt("append", lambda: open(target, "a").write("POISONED = True\\n"))
attempt("chmod", lambda: os.chmod(target, 0o777))
attempt("chown", lambda: os.chown(target, os.getuid(), os.getgid()))
attempt("utime now", lambda: os.utime(target, None))
attempt("utime set", lambda: os.utime(target, (0, 0)))
# What pip does to replace a file: unlink it and create a new one. Its own copy changes.
attempt("replace", lambda: (os.unlink(target), open(target, "w").write("REPLACED = True\\n")))
# A symlink's mode is 777: anyone may set its times to now. It must be the job's own inode.
os.utime(${JSON.stringify(join(derived, 'bin', 'python'))}, None, follow_symlinks=False)
print(json.dumps(tried))
`,
    );
    expect(result.stderr).toBe('');
    expect(JSON.parse(result.stdout)).toEqual({
      append: 'PermissionError',
      chmod: 'PermissionError',
      chown: 'PermissionError',
      'utime now': 'PermissionError',
      'utime set': 'PermissionError',
      replace: 'done',
    });
    expect(await readFile(target, 'utf8')).toBe('REPLACED = True\n');
    expect(await treeSnapshot(base, { times: true })).toEqual(before);
  }, 120_000);

  it("lets the job's pip uninstall and upgrade a linked package, leaving the shared environment intact", async () => {
    const before = await treeSnapshot(base, { times: true });
    const derived = join(cacheDir, 'venvs', 'pip-target');
    expect(await linkEnv(base, derived, identity)).toBe(true);
    const index = await tempDir('index');
    remove(index);
    await makeFakeIndex(index, 'six', '99.0');
    // pip lists the directory, as the job's uid.
    await chmod(index, 0o755);
    const pip = (args: string[]) =>
      asJob(
        derived,
        `import sys, runpy; sys.argv = ["pip", ${args.map((a) => JSON.stringify(a)).join(', ')}]; runpy.run_module("pip", run_name="__main__")`,
        [index],
      );
    const uninstalled = await pip(['uninstall', '-y', 'six']);
    expect(uninstalled.stdout).toContain('Successfully uninstalled six');
    const upgraded = await pip(['install', '--no-index', '--find-links', index, 'six==99.0']);
    expect(`${upgraded.stdout}\n${upgraded.stderr}`).toContain('Successfully installed six-99.0');
    const check = async (env: string) =>
      (await execa(join(env, 'bin', 'python'), ['-I', '-c', 'import six; print(six.__version__)'])).stdout;
    expect(await check(derived)).toBe('99.0');
    expect(await check(base)).not.toBe('99.0');
    expect(await treeSnapshot(base, { times: true })).toEqual(before);
  }, 120_000);

  it("links nothing from an environment whose files are writable by others or not the worker's", async () => {
    for (const [i, spoil] of [
      (file: string) => chmod(file, 0o666),
      (file: string) => chown(file, identity.uid, identity.gid),
    ].entries()) {
      const env = await tempDir('env');
      remove(env);
      await writeFile(join(env, 'pyvenv.cfg'), '');
      await mkdir(join(env, 'bin'));
      await writeFile(join(env, 'module.py'), 'x = 1\n');
      await spoil(join(env, 'module.py'));
      const to = join(env, `..`, `${env.split('/').pop()}-linked-${i}`);
      remove(to);
      expect(await linkEnv(env, to, identity)).toBe(false);
      await expect(stat(to)).rejects.toThrow(/ENOENT/);
    }
  });
});

describe('evictToBound with linked environments', () => {
  it('counts a file shared by hard links once, and frees it only with the last environment holding it', async () => {
    const venvs = await tempDir('venvs');
    remove(venvs);
    const make = async (key: string, ageSeconds: number, files: Record<string, number | string>) => {
      const dir = join(venvs, `${key}@1-abc`);
      await mkdir(dir, { recursive: true });
      await writeFile(join(dir, 'pyvenv.cfg'), '');
      let bytes = 0;
      for (const [name, what] of Object.entries(files)) {
        if (typeof what === 'number') await writeFile(join(dir, name), Buffer.alloc(what));
        else await execa('ln', [join(venvs, what), join(dir, name)]);
        bytes += (await stat(join(dir, name))).size;
      }
      await symlink(`${key}@1-abc`, join(venvs, key));
      await writeEnvRecord(venvs, key, {
        python: { executable: 'p', version: '3' },
        lines: [],
        bytes,
        ...(Object.values(files).some((w) => typeof w === 'string') ? { linked: true } : {}),
      });
      const at = new Date(Date.now() - ageSeconds * 1000);
      const { utimes } = await import('node:fs/promises');
      await utimes(join(venvs, `${key}.json`), at, at);
    };
    const [a, b, c] = ['py3.11.2-000000000000000a', 'py3.11.2-000000000000000b', 'py3.11.2-000000000000000c'];
    await make(a as string, 300, { big: 10_000 });
    // b and c are derived from a: the 10,000 bytes are on disk once.
    await make(b as string, 200, { big: `${a}@1-abc/big`, extra: 100 });
    await make(c as string, 100, { big: `${a}@1-abc/big`, more: 200 });
    expect(await evictToBound(venvs, 0)).toEqual({ bytes: 10_300, evicted: [] });
    // Evicting a frees nothing the others still link to; b then frees its own 100 bytes.
    expect(await evictToBound(venvs, 10_250, [c as string])).toEqual({ bytes: 10_200, evicted: [a, b] });
    // The last holder of the shared file frees it.
    expect(await evictToBound(venvs, 1)).toEqual({ bytes: 0, evicted: [c] });
  });
});
