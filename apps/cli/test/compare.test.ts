import { chmod, mkdir, mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { commit, fakeTrainer, git, isRunning, processesWithArg, waitFor } from '@evalbot/test-utils';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../src/program.ts';
import { captureCli } from './capture-cli.ts';

/** A model that trains instantly: its accuracy and loss follow its learning rate. */
const fakeModel = (learningRate: number) =>
  fakeTrainer({ accuracy: 0.9 + learningRate, loss: 0.5 - 10 * learningRate });

describe('evalbot compare', () => {
  let dir: string;
  let repo: string;
  let cacheDir: string;
  let env: Record<string, string | undefined>;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'evalbot-compare-'));
    // The sandbox's uids must traverse it to their job directories under work/.
    await chmod(dir, 0o711);
    repo = join(dir, 'model');
    await mkdir(repo);
    await git(repo, 'init', '-q', '-b', 'main', '.');
    await commit(repo, { 'demo.py': fakeModel(0.003), 'requirements.txt': '' }, 'Base model');
    await git(repo, 'checkout', '-q', '-b', 'tune');
    await commit(repo, { 'demo.py': fakeModel(0.005) }, 'Raise the learning rate');
    await git(repo, 'checkout', '-q', '-b', 'crash', 'main');
    await commit(repo, { 'demo.py': 'raise ValueError("shapes (3,) and (4,) not aligned")\n' }, 'Break it');
    await git(repo, 'checkout', '-q', 'tune');
    // The venv of an empty requirements.txt is built once; scripts/test.sh shares the cache across runs.
    cacheDir = process.env.EVALBOT_CACHE_DIR ?? join(dir, 'cache');
    env = {
      PATH: process.env.PATH,
      LANG: process.env.LANG,
      PIP_INDEX_URL: process.env.PIP_INDEX_URL,
      PIP_EXTRA_INDEX_URL: process.env.PIP_EXTRA_INDEX_URL,
      EVALBOT_CACHE_DIR: cacheDir,
      EVALBOT_WORK_DIR: join(dir, 'work'),
      EVALBOT_PYTHON: process.env.EVALBOT_PYTHON,
    };
  });

  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('prints the report with both sides’ metrics and the change, and exits 0 for a neutral check', async () => {
    const cli = captureCli({ env, cwd: repo });
    const code = await runCli(['compare', '--base', 'main'], cli.ctx);

    expect(cli.stderr()).toContain('Check run: neutral');
    expect(code).toBe(0);
    const report = cli.stdout();
    expect(report.startsWith('<!-- evalbot:report -->')).toBe(true);
    expect(report).toMatch(/\| accuracy ↑ \| 90\.30% \| 90\.50% \| \+0\.20 pts \| .* \| 🟢 better \|/);
    expect(report).toMatch(/\| loss ↓ \| 0\.47 \| 0\.45 \| −0\.02 \| .* \| 🟢 better \|/);
    // Progress went to stderr, one plain line per step (not a terminal).
    expect(cli.stderr()).toMatch(/^head [0-9a-f]{7}: done: accuracy 0\.905, loss 0\.45/m);
    expect(cli.stderr()).toMatch(/^base [0-9a-f]{7}: done: accuracy 0\.903, loss 0\.47/m);
    // The checkouts are gone.
    expect(await readdir(join(dir, 'work'))).toEqual([]);
  });

  it('prints the verdict, check run, comment and both outcomes as JSON with --format json', async () => {
    const cli = captureCli({ env, cwd: dir });
    const code = await runCli(
      ['compare', 'model', '--base', 'main', '--head', 'tune', '--format', 'json'],
      cli.ctx,
    );

    expect(code).toBe(0);
    const json = JSON.parse(cli.stdout());
    expect(json.conclusion).toBe('neutral');
    expect(json.title).toContain('accuracy +0.20 pts');
    expect(json.head.runs[0].metrics).toEqual({ accuracy: 0.905, loss: 0.45 });
    expect(json.base.sha).toBe(await git(repo, 'rev-parse', 'main'));
    expect(json.markdown).toContain('| accuracy ↑ |');
  });

  it("runs the head with the base's repeats and seeds, as the worker does", async () => {
    await git(repo, 'checkout', '-q', '-b', 'noise-base', 'main');
    await commit(repo, { '.evalbot.yml': 'repeats: 2\nseed: 5\n' }, 'Measure noise');
    await git(repo, 'checkout', '-q', '-b', 'lucky-seed');
    await commit(repo, { '.evalbot.yml': 'repeats: 1\nseed: 1234\n' }, 'One lucky run');
    await git(repo, 'checkout', '-q', 'tune');
    const cli = captureCli({ env, cwd: repo });
    const code = await runCli(
      ['compare', '--base', 'noise-base', '--head', 'lucky-seed', '--format', 'json'],
      cli.ctx,
    );

    expect(code).toBe(0);
    const json = JSON.parse(cli.stdout());
    const seeds = (side: { runs: { seed: number }[] }) => side.runs.map((r) => r.seed);
    expect(seeds(json.head)).toEqual([5, 6]);
    expect(seeds(json.base)).toEqual([5, 6]);
    expect(json.markdown).toContain('2 head runs and 2 base runs');
  });

  it('runs both commits in the sandbox the worker uses, with a uid of its own as root, and refuses a bad setting', async () => {
    await git(repo, 'checkout', '-q', '-b', 'whoami', 'main');
    await commit(
      repo,
      { 'demo.py': 'import json, os\njson.dump({"uid": os.getuid()}, open("result.txt", "w"))\n' },
      'Who am I',
    );
    await git(repo, 'checkout', '-q', 'tune');
    const uidOf = async (extra: Record<string, string>) => {
      const cli = captureCli({ env: { ...env, ...extra }, cwd: dir });
      const code = await runCli(
        ['compare', 'model', '--base', 'main', '--head', 'whoami', '--format', 'json'],
        cli.ctx,
      );
      return {
        code,
        stderr: cli.stderr(),
        uid: code === 2 ? undefined : JSON.parse(cli.stdout()).head.runs[0]?.metrics.uid,
      };
    };
    const sandboxed = await uidOf({ EVALBOT_SANDBOX_UIDS: '51000-51009' });
    if (process.getuid?.() === 0) {
      expect(sandboxed.uid).toBeGreaterThanOrEqual(51000);
      expect(sandboxed.uid).toBeLessThanOrEqual(51009);
    }
    expect(sandboxed.stderr).not.toContain('WITHOUT a sandbox');

    const unsafe = await uidOf({ EVALBOT_UNSAFE_NO_SANDBOX: '1' });
    expect(unsafe.uid).toBe(process.getuid?.());
    expect(unsafe.stderr).toContain('EVALBOT_UNSAFE_NO_SANDBOX is set: both commits run WITHOUT a sandbox');

    const bad = await uidOf({ EVALBOT_SANDBOX_UIDS: 'nobody' });
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('EVALBOT_SANDBOX_UIDS: must be a range of uids, e.g. 50000-50999');
  });

  // A PR cannot slip past its gate by writing its gated metric after 200 others: the cap
  // skips it, so the head lacks it, and a gated metric missing from head fails the check, even
  // at a value that would pass.
  it("fails the check when the head's gated metric is past the 200 metrics a run keeps", async () => {
    await git(repo, 'checkout', '-q', '-b', 'gated', 'main');
    await commit(
      repo,
      { '.evalbot.yml': 'metrics:\n  accuracy: {direction: higher, fail_if_worse_by: 0.01}\n' },
      'Gate accuracy',
    );
    await git(repo, 'checkout', '-q', '-b', 'buried');
    const buried =
      'import json\nm = {f"pad_{i}": 0 for i in range(200)}\nm.update(accuracy=0.99, loss=0.4)\n' +
      'json.dump(m, open("result.txt", "w"))\n';
    await commit(repo, { 'demo.py': buried }, 'Bury it');
    await git(repo, 'checkout', '-q', 'tune');
    const cli = captureCli({ env, cwd: repo });
    const code = await runCli(
      ['compare', '--base', 'gated', '--head', 'buried', '--format', 'json', '--sequential'],
      cli.ctx,
    );

    expect(code).toBe(1);
    const json = JSON.parse(cli.stdout());
    expect(json.conclusion).toBe('failure');
    expect(json.markdown).toContain("accuracy missing from head's metrics (it has a threshold)");
    expect(json.head.logTail).toContain(
      "evalbot: 2 metrics skipped, from 'accuracy' on: only the first 200 are kept",
    );
  });

  it('exits 1 and names the failing stage when the head’s run crashes', async () => {
    const cli = captureCli({ env, cwd: repo });
    const code = await runCli(['compare', '--base', 'main', '--head', 'crash', '--sequential'], cli.ctx);

    expect(code).toBe(1);
    expect(cli.stderr()).toContain('Check run: failure');
    expect(cli.stderr()).toMatch(/^head [0-9a-f]{7}: failed: run: `python3 demo\.py` exited with code 1/m);
    const report = cli.stdout();
    expect(report).toContain('python3 demo.py');
    expect(report).toMatch(/\brun\b/);
    expect(report).toContain('ValueError: shapes (3,) and (4,) not aligned');
  });

  it('exits 2 naming the ref when a ref is unknown, and 2 when the path is no repository', async () => {
    const unknown = captureCli({ env, cwd: repo });
    expect(await runCli(['compare', '--base', 'no-such-branch'], unknown.ctx)).toBe(2);
    expect(unknown.stderr()).toContain('--base no-such-branch: no such commit');
    expect(unknown.stdout()).toBe('');

    const notRepo = captureCli({ env, cwd: dir });
    expect(await runCli(['compare', '.', '--base', 'main'], notRepo.ctx)).toBe(2);
    expect(notRepo.stderr()).toContain('is not inside a git repository');

    const missing = captureCli({ env, cwd: repo });
    expect(await runCli(['compare', 'nowhere', '--base', 'main'], missing.ctx)).toBe(2);
    expect(missing.stderr()).toContain('nowhere is not a directory');

    const noBase = captureCli({ env, cwd: repo });
    expect(await runCli(['compare'], noBase.ctx)).toBe(2);
    expect(noBase.stderr()).toContain("required option '-b, --base <ref>' not specified");
  });

  it('stops the training’s whole process group on Ctrl-C and exits 130', async () => {
    // Its marker on the command lines of the training and its child, which the host sees.
    const marker = `evalbot-compare-${process.pid}-${Date.now()}`;
    await git(repo, 'checkout', '-q', '-b', 'slow', 'main');
    await commit(
      repo,
      {
        'demo.py': `import os, subprocess, sys, time
if sys.argv[1:] != [${JSON.stringify(marker)}]:
    os.execv(sys.executable, [sys.executable, "demo.py", ${JSON.stringify(marker)}])
child = subprocess.Popen(["sh", "-c", "sleep 300", ${JSON.stringify(marker)}])
time.sleep(300)
`,
      },
      'Train for a long time',
    );
    await git(repo, 'checkout', '-q', 'tune');
    const interrupt = new AbortController();
    const cli = captureCli({ env, cwd: repo, signal: interrupt.signal });
    const running = runCli(['compare', '--base', 'main', '--head', 'slow'], cli.ctx);
    const pids = await waitFor(
      async () => {
        const found = await processesWithArg(marker);
        return found.length === 2 ? found : null;
      },
      { timeoutMs: 30_000 },
    );

    const started = Date.now();
    interrupt.abort(new Error('interrupted'));
    expect(await running).toBe(130);
    expect(Date.now() - started).toBeLessThan(10_000);
    expect(cli.stderr()).toContain('interrupted; nothing was compared');
    expect(cli.stdout()).toBe('');
    for (const pid of pids) expect(await isRunning(pid)).toBe(false);
    expect(await processesWithArg(marker)).toEqual([]);
  });
});
