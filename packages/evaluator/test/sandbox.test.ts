import { randomInt } from 'node:crypto';
import { chmod, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { processesWithCmdline, rootSkipReason, titleSkippedIf, waitFor } from '@evalbot/test-utils';
import { execa } from 'execa';
import { beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_SANDBOX_UIDS, evaluateCommit } from '../src/index.ts';
import {
  type EvaluateFilesOptions,
  evaluateFiles,
  evaluateInChild,
  FAKE_MODEL,
  fileCacheDir,
  git,
  leftovers,
  makeRepo,
  type RepoFile,
  removedAfterEach,
  tempDir,
} from './helpers.ts';

const remove = removedAfterEach();
const noRoot = rootSkipReason();
const cache = fileCacheDir();

beforeAll(async () => {
  // The time-limit tests give setup and run 2 s: build the (empty) environment beforehand.
  expect(await evaluate(FAKE_MODEL)).toMatchObject({ ok: true });
});

function evaluate(files: Record<string, RepoFile>, extra: Partial<EvaluateFilesOptions> = {}) {
  return evaluateFiles(
    files,
    { cacheDir: cache.path, maxTimeoutMs: 120_000, killGraceMs: 500, ...extra },
    remove,
  );
}

/** A unique `sleep` argument, to find this test's processes in /proc. */
const uniqueSleep = () => `1000.${randomInt(1e9)}`;

describe('the sandbox', () => {
  it('kills the whole process tree when the run passes its time limit', async () => {
    const sleep = uniqueSleep();
    const started = Date.now();
    let seen: Promise<unknown> | undefined;
    const result = await evaluate(
      {
        // A background grandchild, and a foreground child that ignores SIGTERM.
        'demo.py': `import os, signal, subprocess, time
subprocess.Popen(["sh", "-c", "sleep ${sleep} & wait"])
signal.signal(signal.SIGTERM, signal.SIG_IGN)
print("started", flush=True)
time.sleep(1000)
`,
      },
      {
        maxTimeoutMs: 2000,
        onLog: (line) => {
          if (line === 'started')
            seen = waitFor(async () => (await processesWithCmdline(`sleep ${sleep}`)).length > 0);
        },
      },
    );
    await seen; // the grandchild did run
    expect(result).toMatchObject({
      ok: false,
      stage: 'run',
      message:
        "`python3 demo.py` timed out after 2 s (the worker's maximum; .evalbot.yml asks for timeout_minutes: 30)",
    });
    expect(result.logTail).toContain('started');
    expect(Date.now() - started).toBeLessThan(15_000);
    expect(await processesWithCmdline(`sleep ${sleep}`)).toEqual([]);
  });

  it("names timeout_minutes when the repository's own limit ends the run", async () => {
    const result = await evaluate({
      ...FAKE_MODEL,
      '.evalbot.yml': 'timeout_minutes: 0.03\nrun: sleep 30\n',
    });
    expect(result).toMatchObject({
      stage: 'run',
      message: '`sleep 30` timed out after 2 s (timeout_minutes: 0.03; the limit covers setup and run)',
    });
  });

  it('kills the run and its children at once when the signal aborts', async () => {
    const sleep = uniqueSleep();
    const controller = new AbortController();
    let seen: Promise<unknown> | undefined;
    const resultPromise = evaluate(
      {
        'demo.py': `import subprocess\nsubprocess.Popen(["sleep", "${sleep}"])\nprint("started", flush=True)\nsubprocess.run(["sleep", "${sleep}"])\n`,
      },
      {
        signal: controller.signal,
        onLog: (line) => {
          if (line !== 'started') return;
          seen = waitFor(async () => (await processesWithCmdline(`sleep ${sleep}`)).length > 0).finally(() =>
            controller.abort(),
          );
        },
      },
    );
    const result = await resultPromise;
    await seen;
    expect(result).toMatchObject({ ok: false, stage: 'run', message: 'cancelled', cancelled: true });
    expect(await processesWithCmdline(`sleep ${sleep}`)).toEqual([]);
  });

  it('returns at once, cancelled, when the signal is already aborted', async () => {
    const result = await evaluate(FAKE_MODEL, { signal: AbortSignal.abort() });
    expect(result).toMatchObject({ ok: false, stage: 'clone', message: 'cancelled', cancelled: true });
  });

  it('kills background processes a successful run leaves behind', async () => {
    const sleep = uniqueSleep();
    const result = await evaluate({
      'demo.py': `import subprocess\nsubprocess.Popen(["sleep", "${sleep}"])\nopen("result.txt", "w").write('{"a": 1}')\n`,
    });
    expect(result.ok).toBe(true);
    expect(await processesWithCmdline(`sleep ${sleep}`)).toEqual([]);
  });

  it('kills a process that left the process group (setsid) without waiting for its output', async () => {
    const sleep = uniqueSleep();
    const started = Date.now();
    const result = await evaluate({
      'demo.py': `import subprocess\nsubprocess.Popen(["setsid", "sleep", "${sleep}"])\nopen("result.txt", "w").write('{"a": 1}')\n`,
    });
    expect(result.ok).toBe(true);
    expect(Date.now() - started).toBeLessThan(10_000);
    expect(await processesWithCmdline(`sleep ${sleep}`)).toEqual([]);
  });

  it("gives PR code none of the worker's secrets, no git config and a closed stdin", async () => {
    const planted = {
      WEBHOOK_SECRET: 'planted-webhook-secret-value',
      PRIVATE_KEY: 'planted-private-key-value',
      PRIVATE_KEY_PATH: '/planted/private-key.pem',
      APP_ID: '987654',
      REDIS_URL: 'redis://127.0.0.1:6390/7',
      GITHUB_TOKEN: 'planted-github-token-value',
      DASHBOARD_PASSWORD: 'planted-dashboard-password',
    };
    Object.assign(process.env, planted);
    const bare = await tempDir('bare');
    remove(bare);
    try {
      const repo = await makeRepo({
        'demo.py': `import json, os, subprocess, sys
print("ENV", json.dumps(dict(os.environ)))
print("GITCONFIG", subprocess.run("cat .git/config; git config --list --show-origin", shell=True, capture_output=True, text=True).stdout)
print("STDIN", repr(sys.stdin.read() if sys.stdin else None))
open("result.txt", "w").write('{"ok": 1}')
`,
        '.evalbot.yml': 'env:\n  MODEL_SIZE: small\n',
      });
      remove(repo.dir);
      await git(bare, 'clone', '-q', '--bare', repo.dir, join(bare, 'model.git'));
      const lines: string[] = [];
      const workRoot = await tempDir('work');
      remove(workRoot);
      const result = await evaluateCommit({
        source: {
          url: `file://${bare}/model.git`,
          sha: repo.sha,
          gitEnv: {
            GIT_CONFIG_COUNT: '1',
            GIT_CONFIG_KEY_0: 'http.extraHeader',
            GIT_CONFIG_VALUE_0: 'Authorization: Basic cGxhbnRlZC1naXQtdG9rZW4=',
          },
        },
        allowedOrigin: `file://${bare}`,
        side: 'head',
        workRoot,
        cacheDir: cache.path,
        maxTimeoutMs: 60_000,
        onLog: (line) => lines.push(line),
      });
      expect(result.ok).toBe(true);
      const envLine = lines.find((l) => l.startsWith('ENV '));
      const env = JSON.parse(envLine?.slice(4) ?? '{}') as Record<string, string>;
      for (const [name, value] of Object.entries(planted)) {
        expect(env).not.toHaveProperty(name);
        expect(envLine).not.toContain(value);
      }
      expect(Object.keys(env).filter((k) => k.startsWith('GIT_'))).toEqual([]);
      expect(envLine).not.toContain('cGxhbnRlZC1naXQtdG9rZW4');
      expect(env).toMatchObject({
        EVALBOT_SEED: '42',
        EVALBOT_SIDE: 'head',
        MODEL_SIZE: 'small',
        VIRTUAL_ENV: expect.stringContaining(workRoot),
        // pip in PR code caches inside the job, never where shared environments are built from.
        PIP_CACHE_DIR: expect.stringContaining(workRoot),
        HOME: expect.stringContaining(workRoot),
        // The sandbox's own /tmp: private to the step, size-capped, gone when it ends.
        TMPDIR: '/tmp',
      });
      expect(env.PATH?.split(':')[0]).toBe(`${env.VIRTUAL_ENV}/bin`);
      const gitConfig = lines.slice(lines.findIndex((l) => l.startsWith('GITCONFIG'))).join('\n');
      expect(gitConfig).not.toMatch(/extraheader|authorization|model\.git/i);
      // stdin is /dev/null: a prompt (input()) ends at once instead of waiting forever.
      expect(lines).toContain("STDIN ''");
      expect(await leftovers(workRoot)).toEqual([]);
    } finally {
      for (const name of Object.keys(planted)) delete process.env[name];
    }
  });

  it('lets a short-lived caller (evalbot compare) exit as soon as the evaluation returns', async () => {
    const repo = await makeRepo(FAKE_MODEL);
    const workRoot = await tempDir('work');
    remove(repo.dir, workRoot);
    const child = evaluateInChild(repo, workRoot, cache.path);
    let printedAt = 0;
    child.stdout.once('data', () => {
      printedAt = Date.now();
    });
    const { stdout } = await child;
    expect(JSON.parse(stdout)).toMatchObject({ ok: true });
    // Nothing of the evaluator (no timer, no handle) keeps the event loop alive afterwards.
    expect(Date.now() - printedAt).toBeLessThan(1000);
  });

  it('keeps a bounded tail of a run that prints 50 MB, and the run still succeeds', async () => {
    const forwarded: string[] = [];
    const result = await evaluate(
      {
        'demo.py': `import sys
line = "x" * 99 + "\\n"
for i in range(500_000):
    sys.stdout.write(line)
sys.stdout.write("y" * 5_000_000 + "\\n")
print("LAST LINE")
open("result.txt", "w").write('{"a": 1}')
`,
      },
      { onLog: (line) => forwarded.push(line) },
    );
    expect(result.ok).toBe(true);
    expect(Buffer.byteLength(result.logTail)).toBeLessThanOrEqual(66 * 1024);
    expect(result.logTail).toMatch(/^… \(\d+ earlier lines not kept\)/);
    expect(result.logTail).toContain('LAST LINE');
    expect(result.logTail).toContain('[line cut at 2000 characters]');
    expect(forwarded.length).toBeLessThan(1000);
    expect(forwarded.some((l) => /lines not forwarded to the live log/.test(l))).toBe(true);
  });

  it.skipIf(noRoot !== undefined)(
    titleSkippedIf('runs PR code, pip included, as a uid of its own when the worker is root', noRoot),
    async () => {
      const root = await tempDir('as-user');
      remove(root);
      await chmod(root, 0o755);
      const result = await evaluate(
        {
          'requirements.txt': 'six\n',
          'demo.py': `import json, os, six, sys
shared = [p for p in sys.path if "/venvs/" in p][0]
try:
    open(os.path.join(shared, "planted.py"), "w").write("x = 1")
    writable = 1
except OSError:
    writable = 0
json.dump({"uid": os.getuid(), "gid": os.getgid(), "shared_writable": writable}, open("result.txt", "w"))
`,
        },
        { workRoot: join(root, 'work'), cacheDir: join(root, 'cache') },
      );
      expect(result).toMatchObject({ ok: true, runs: [{ metrics: { shared_writable: 0 } }] });
      const { uid, gid } = (result.ok && result.runs[0]?.metrics) || {};
      expect(uid).toBeGreaterThanOrEqual(DEFAULT_SANDBOX_UIDS.first);
      expect(uid).toBeLessThanOrEqual(DEFAULT_SANDBOX_UIDS.last);
      expect(gid).toBe(uid);
      expect(await leftovers(join(root, 'work'))).toEqual([]);
    },
    180_000,
  );

  it.skipIf(noRoot !== undefined)(
    titleSkippedIf(
      'leaves PR code and its pip nothing it can write in the cache shared environments are built from',
      noRoot,
    ),
    async () => {
      const root = await tempDir('as-user-cache');
      remove(root);
      await chmod(root, 0o755);
      const cacheDir = join(root, 'cache');
      const result = await evaluate(
        {
          // The shared build runs pip as the job's uid; setup runs pip as the job's uid too.
          'requirements.txt': 'six\n',
          '.evalbot.yml': 'setup: pip install --no-build-isolation ./localpkg\n',
          'localpkg/setup.py':
            "from setuptools import setup\nsetup(name='localsix', version='1.0', py_modules=['localsix'])\n",
          'localpkg/localsix.py': 'VALUE = 1\n',
          'demo.py': `import json, os
cache = ${JSON.stringify(cacheDir)}
# Plant a file in every directory of the cache it can see, and append to every file.
planted = 0
for d, dirs, files in os.walk(cache):
    for path, is_dir in [(d, True), *((os.path.join(d, f), False) for f in files)]:
        try:
            open(os.path.join(path, "planted-by-pr") if is_dir else path, "a").write("" if not is_dir else "x")
            planted += 1
        except OSError:
            pass
in_job = os.environ.get("PIP_CACHE_DIR", "").startswith(os.environ["HOME"] + "/")
json.dump({"pip_cache_in_job": int(in_job)}, open("result.txt", "w"))
`,
        },
        { workRoot: join(root, 'work'), cacheDir },
      );
      expect(result).toMatchObject({ ok: true, runs: [{ metrics: { pip_cache_in_job: 1 } }] });
      // What it wrote went to its private /tmp at most: the real cache holds nothing of it.
      expect((await execa('find', [cacheDir, '-name', 'planted-by-pr'])).stdout).toBe('');
      const sitePackages = await execa('find', [join(cacheDir, 'venvs'), '-name', 'six.py']);
      for (const file of sitePackages.stdout.split('\n').filter(Boolean)) {
        expect((await stat(file)).uid).toBe(0);
      }
    },
    180_000,
  );

  it.skipIf(noRoot !== undefined)(
    titleSkippedIf("refuses a work directory the sandbox's uids cannot reach, saying how to fix it", noRoot),
    async () => {
      const hidden = await tempDir('hidden');
      await chmod(hidden, 0o700);
      remove(hidden);
      await expect(evaluate(FAKE_MODEL, { workRoot: join(hidden, 'work') })).rejects.toThrow(
        /the work directory \(EVALBOT_WORK_DIR\) .* is not reachable by the sandbox uids: .* lacks search \(x\) permission/,
      );
    },
  );
});
