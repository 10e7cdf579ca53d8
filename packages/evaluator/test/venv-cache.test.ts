import { mkdir, readdir, readlink, writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { parseRepoConfig } from '@evalbot/repo-config';
import { execa } from 'execa';
import { describe, expect, it } from 'vitest';
import { LogCollector } from '../src/log-collector.ts';
import { preparePythonEnv } from '../src/prepare-python-env.ts';
import { resolvePython } from '../src/python-interpreter.ts';
import { runSandboxed } from '../src/run-sandboxed.ts';
import { downloadEnvOf, jobSandboxEnvs } from '../src/sandbox-env.ts';
import type { RunStep } from '../src/step.ts';
import { venvKey } from '../src/venv-cache.ts';
import {
  evaluateFiles,
  evaluateInChild,
  leftovers,
  makeFakeIndex,
  makeRepo,
  type RepoFile,
  removedAfterEach,
  tempDir,
} from './helpers.ts';

const remove = removedAfterEach();

/** Writes 1 when `six` can be imported, where from, and whether it is an attacker's fake. */
const USES_SIX = {
  'requirements.txt': 'six\n',
  'demo.py': `import json, six\njson.dump({"six": 1, "in_job_layer": int("/venvs/" not in six.__file__), "poisoned": int(getattr(six, "POISONED", False))}, open("result.txt", "w"))\n`,
};

async function freshCache(): Promise<string> {
  const dir = await tempDir('cache');
  remove(dir);
  return dir;
}

function evaluate(files: Record<string, RepoFile>, cacheDir: string) {
  return evaluateFiles(files, { cacheDir, maxTimeoutMs: 300_000 }, remove);
}

/** The cache's environments: published links and the directories they point to (not their `.json` records). */
async function cacheEntries(cacheDir: string): Promise<string[]> {
  return (await readdir(join(cacheDir, 'venvs')).catch(() => []))
    .filter((name) => !name.endsWith('.json'))
    .sort();
}

describe('the environment cache', () => {
  it("reads a shared environment's package versions once, and again for a job whose setup ran", async () => {
    const cacheDir = await freshCache();
    const files = {
      'requirements.txt': '# nothing\n',
      'demo.py': 'open("result.txt", "w").write(\'{"accuracy": 0.9}\')\n',
    };
    const first = await evaluate(files, cacheDir);
    expect(first).toMatchObject({ ok: true, environment: { python: expect.any(String) } });
    expect(first.environment.packages).toEqual({});
    // A package appears in the shared environment behind evalbot's back (published environments
    // never change; this only shows whether the next job looks again).
    const [link] = (await cacheEntries(cacheDir)).filter((name) => !name.includes('@'));
    const python = await resolvePython(process.env.EVALBOT_PYTHON ?? 'python3', { PATH: process.env.PATH });
    const distInfo = join(
      cacheDir,
      'venvs',
      link ?? '',
      'lib',
      `python${python.minor}`,
      'site-packages',
      'numpy-9.9.9.dist-info',
    );
    await mkdir(distInfo, { recursive: true });
    await writeFile(join(distInfo, 'METADATA'), 'Metadata-Version: 2.1\nName: numpy\nVersion: 9.9.9\n');
    const again = await evaluate(files, cacheDir);
    expect(again).toMatchObject({ ok: true, environmentReused: true });
    expect(again.environment.packages).toEqual({});
    const withSetup = await evaluate({ ...files, '.evalbot.yml': 'setup: "true"\n' }, cacheDir);
    expect(withSetup).toMatchObject({ ok: true, environment: { packages: { numpy: '9.9.9' } } });
  });

  it('builds an environment once and reuses it for the next job with the same requirements', async () => {
    const cacheDir = await freshCache();
    const cold = await evaluate(USES_SIX, cacheDir);
    // Comments and blank lines do not change what is installed: same environment.
    const warm = await evaluate({ ...USES_SIX, 'requirements.txt': '# pinned below\nsix\n\n' }, cacheDir);
    expect(cold).toMatchObject({
      ok: true,
      environmentReused: false,
      runs: [{ metrics: { six: 1, in_job_layer: 0 } }],
    });
    expect(warm).toMatchObject({ ok: true, environmentReused: true, runs: [{ metrics: { six: 1 } }] });
    console.info(
      `venv timings: setup cold ${cold.durations.setup} ms (venv + pip install six), cached ${warm.durations.setup} ms`,
    );
    expect(warm.durations.setup).toBeLessThan(cold.durations.setup ?? 0);
    const entries = await cacheEntries(cacheDir);
    expect(entries).toHaveLength(2); // <key> → <key>@<pid>-<nonce>
    const [link, dir] = entries;
    expect(await readlink(join(cacheDir, 'venvs', link ?? ''))).toBe(dir);
  });

  it('ends with one valid environment when two worker processes build the same one at once', async () => {
    const cacheDir = await freshCache();
    const repo = await makeRepo(USES_SIX);
    const workRoot = await tempDir('work');
    remove(repo.dir, workRoot);
    const child = () => evaluateInChild(repo, workRoot, cacheDir);
    const results = (await Promise.all([child(), child()])).map((r) => JSON.parse(r.stdout));
    expect(results).toMatchObject([
      { ok: true, runs: [{ metrics: { six: 1 } }] },
      { ok: true, runs: [{ metrics: { six: 1 } }] },
    ]);
    // One built it while the other waited for it.
    expect(results.map((r) => r.environmentReused).sort()).toEqual([false, true]);
    const entries = await cacheEntries(cacheDir);
    expect(entries).toHaveLength(2);
    expect(entries.some((e) => e.endsWith('.lock'))).toBe(false);
    const python = join(cacheDir, 'venvs', entries[0] ?? '', 'bin', 'python');
    expect((await execa(python, ['-c', 'import six; print(six.__version__)'])).stdout).toMatch(/^\d+\./);
    expect(await leftovers(workRoot)).toEqual([]);
  });

  it('keys a requirement and the same line as a constraint apart: one repository cannot take the key of another', () => {
    const python = { executable: '/usr/bin/python3', version: '3.11.2' };
    const pinned = venvKey(python, ['tabulate', 'numpy<2', '# constraints']);
    const constrained = venvKey(python, ['tabulate', '# constraints', 'numpy<2']);
    expect(pinned).toMatch(/^py3\.11\.2-[0-9a-f]{16}$/);
    expect(constrained).not.toBe(pinned);
  });

  it('is not wedged by a builder that was killed midway', async () => {
    const cacheDir = await freshCache();
    const python = await resolvePython(process.env.EVALBOT_PYTHON ?? 'python3', process.env);
    // The key lines of requirements `six` (keyLinesOf): no constraints.
    const key = venvKey(python, ['six', '# constraints']);
    // A worker that died while building: its lock and half-built directory remain.
    const dead = execa('sleep', ['60']);
    const deadPid = dead.pid ?? 0;
    dead.kill('SIGKILL');
    await dead.catch(() => {});
    await mkdir(join(cacheDir, 'venvs', `${key}@${deadPid}-abc123`, 'lib'), { recursive: true });
    await writeFile(
      join(cacheDir, 'venvs', `${key}.lock`),
      JSON.stringify({ pid: deadPid, host: hostname(), nonce: 'abc123', since: Date.now() }),
    );
    const result = await evaluate(USES_SIX, cacheDir);
    expect(result).toMatchObject({ ok: true, environmentReused: false });
    const entries = await cacheEntries(cacheDir);
    expect(entries).toHaveLength(2);
    expect(entries).not.toContain(`${key}@${deadPid}-abc123`);
    expect(entries).not.toContain(`${key}.lock`);
  });

  it("installs setup's pip packages into the job's own layer, never into the shared environment", async () => {
    const cacheDir = await freshCache();
    // Offline: a project of the repository itself, built with the environment's setuptools.
    const usesLocal = {
      ...USES_SIX,
      'localpkg/setup.py':
        "from setuptools import setup\nsetup(name='localsix', version='1.0', py_modules=['localsix'])\n",
      'localpkg/localsix.py': 'VALUE = 1\n',
      'demo.py': `import json
try:
    import localsix
    local = int("/venvs/" not in localsix.__file__)
except ImportError:
    local = -1
json.dump({"local_in_job_layer": local}, open("result.txt", "w"))
`,
    };
    const withSetup = await evaluate(
      { ...usesLocal, '.evalbot.yml': 'setup: pip install --no-build-isolation ./localpkg\n' },
      cacheDir,
    );
    expect(withSetup).toMatchObject({ ok: true, runs: [{ metrics: { local_in_job_layer: 1 } }] });
    const without = await evaluate(usesLocal, cacheDir);
    expect(without).toMatchObject({
      ok: true,
      environmentReused: true,
      runs: [{ metrics: { local_in_job_layer: -1 } }],
    });
  });

  it('runs setup without the network: pip there has no index', async () => {
    const cacheDir = await freshCache();
    const result = await evaluate(
      { ...USES_SIX, '.evalbot.yml': 'setup: pip install evalbot-not-downloaded\n' },
      cacheDir,
    );
    expect(result).toMatchObject({
      ok: false,
      stage: 'setup',
      message: expect.stringMatching(
        /^`pip install evalbot-not-downloaded` exited with code 1: ERROR: No matching distribution found for evalbot-not-downloaded/,
      ),
    });
  });

  it('names a requirement the worker finds no wheel for, at stage setup, and caches nothing', async () => {
    const cacheDir = await freshCache();
    const result = await evaluate(
      { ...USES_SIX, 'requirements.txt': 'evalbot-no-such-package==1.0\n' },
      cacheDir,
    );
    expect(result).toMatchObject({
      ok: false,
      stage: 'setup',
      message:
        "`evalbot-no-such-package==1.0` has no wheel for Python 3.11.2 on the worker's package indexes: evalbot installs wheels only, since building a source distribution runs its code with network access. Pin a version that publishes a wheel, or ask the operator to add one to the index".replace(
          '3.11.2',
          (await resolvePython(process.env.EVALBOT_PYTHON ?? 'python3', process.env)).version,
        ),
    });
    expect(await cacheEntries(cacheDir)).toEqual([]);
  });

  it('reads the files -r includes itself, so the environment is cached like one file of their lines', async () => {
    const cacheDir = await freshCache();
    const result = await evaluate(
      { ...USES_SIX, 'requirements.txt': '-r base.txt\n', 'base.txt': 'six\n' },
      cacheDir,
    );
    expect(result).toMatchObject({
      ok: true,
      environmentReused: false,
      runs: [{ metrics: { six: 1, in_job_layer: 0 } }],
    });
    // The same lines in one file are the same environment.
    const flat = await evaluate(USES_SIX, cacheDir);
    expect(flat).toMatchObject({ ok: true, environmentReused: true });
  });

  it("refuses a repository's pip settings, so the next repository with the same requirements gets the real package", async () => {
    const cacheDir = await freshCache();
    const evil = await tempDir('evil-index');
    remove(evil);
    const evilIndex = await makeFakeIndex(evil, 'six', '99.0.0');
    const attacker = await evaluate(
      { ...USES_SIX, '.evalbot.yml': `env:\n  PIP_INDEX_URL: ${evilIndex}\n` },
      cacheDir,
    );
    expect(attacker).toMatchObject({
      ok: false,
      stage: 'config',
      message: expect.stringContaining(
        '`env.PIP_INDEX_URL`: is not allowed: pip settings come from the evalbot operator',
      ),
    });
    const victim = await evaluate(USES_SIX, cacheDir);
    expect(victim).toMatchObject({
      ok: true,
      environmentReused: false,
      runs: [{ metrics: { six: 1, in_job_layer: 0, poisoned: 0 } }],
    });
  });

  it("builds the shared environment without the repository's env, even one holding PIP_INDEX_URL", async () => {
    const cacheDir = await freshCache();
    const evil = await tempDir('evil-index');
    const job = await tempDir('attacker-job');
    remove(evil, job);
    const evilIndex = await makeFakeIndex(evil, 'six', '99.0.0');
    const [checkout, home, tmp] = ['checkout', 'home', 'tmp'].map((d) => join(job, d)) as [
      string,
      string,
      string,
    ];
    for (const dir of [checkout, home, tmp]) await mkdir(dir);
    await writeFile(join(checkout, 'requirements.txt'), 'six\n');
    // What the schema refuses, handed to the evaluator's own environment building directly.
    const config = { ...parseRepoConfig(undefined), env: { PIP_INDEX_URL: evilIndex } };
    const envs = jobSandboxEnvs({
      workerEnv: process.env,
      home,
      tmpDir: tmp,
      repoEnv: config.env,
      side: 'head',
      seed: config.seed,
      jobPipCacheDir: join(home, 'pip-cache'),
      sharedPipCacheDir: join(cacheDir, 'pip'),
    });
    const log = new LogCollector({ secrets: [] });
    const runStep: RunStep = (step) =>
      runSandboxed({ argv: step.argv, cwd: step.cwd, env: step.env, log: step.log ?? log, graceMs: 500 });
    const prepared = await preparePythonEnv({
      python: await resolvePython(process.env.EVALBOT_PYTHON ?? 'python3', process.env),
      cacheDir,
      checkout,
      jobVenv: join(job, 'venv'),
      wheelsDir: join(job, 'wheels'),
      downloadEnv: downloadEnvOf(process.env, join(cacheDir, 'pip-downloads')),
      config,
      runStep,
      envFor: envs.forJob,
      sharedEnvFor: envs.forSharedBuild,
      deadline: Date.now() + 300_000,
      note: (line) => log.line(line),
    });
    if (!prepared.ok) throw new Error(`preparing failed: ${JSON.stringify(prepared.failure)}\n${log.tail()}`);
    expect(prepared.env.reused).toBe(false);
    // The repository's env does reach its own job: pip there installs from the attacker's index.
    const jobEnv = envs.forJob(prepared.env.virtualEnv, prepared.env.binDirs);
    const bin = join(prepared.env.virtualEnv, 'bin');
    await execa(join(bin, 'pip'), ['install', 'six==99.0.0'], { env: jobEnv, extendEnv: false, cwd: home });
    const sixInJob = await execa(join(bin, 'python'), ['-c', 'import six; print(six.__version__)'], {
      env: jobEnv,
      extendEnv: false,
      cwd: home,
    });
    expect(sixInJob.stdout).toBe('99.0.0');
    // The shared environment, built from the worker's index alone, serves the next repository.
    const victim = await evaluate(USES_SIX, cacheDir);
    expect(victim).toMatchObject({
      ok: true,
      environmentReused: true,
      runs: [{ metrics: { six: 1, in_job_layer: 0, poisoned: 0 } }],
    });
  });
});
