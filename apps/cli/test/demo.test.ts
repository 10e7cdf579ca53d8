import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isRunning, liveChildren, processesWithArg, waitFor } from '@evalbot/test-utils';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../src/program.ts';
import { captureCli } from './capture-cli.ts';
import { demoArgs, fakeModelSource } from './fake-model.ts';

describe('evalbot demo', () => {
  let dir: string;
  let cacheDir: string;
  let childrenBefore: number[];

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'evalbot-demo-test-'));
    // The venv of an empty requirements.txt is built once; scripts/test.sh shares the cache across runs.
    cacheDir = process.env.EVALBOT_CACHE_DIR ?? join(dir, 'cache');
    childrenBefore = await liveChildren();
  });

  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('prints the PR comment with the metrics table and the check run, then stops everything it started', async () => {
    const { source, marker, logDir } = await fakeModelSource(dir, 'model');
    const cli = captureCli({ cwd: dir });
    const code = await runCli(demoArgs({ source, logDir }, cacheDir), cli.ctx);

    expect(cli.stderr()).not.toMatch(/^evalbot: /m);
    expect(code).toBe(0);
    const out = cli.stdout();
    expect(out).toContain("evalbot's comment on octo-org/mnist-demo#1");
    expect(out).toContain('<!-- evalbot:report -->');
    expect(out).toMatch(/\| accuracy ↑ \| 90\.30% \| 90\.50% \| \+0\.20 pts \| .* \| 🟢 better \|/);
    expect(out).toMatch(/\| loss ↓ \| 0\.47 \| 0\.45 \| −0\.02 \| .* \| 🟢 better \|/);
    expect(out).toContain('Check run "evalbot": neutral — accuracy +0.20 pts, loss −0.02');
    expect(out).toMatch(/^Wall time: \d+\.\d s/m);
    expect(out).toContain(`Logs: ${logDir}`);
    // What a PR author sees meanwhile, as progress on stderr.
    const progress = cli.stderr();
    expect(progress).toContain('Opened PR #1 in octo-org/mnist-demo');
    expect(progress).toContain('202 recorded');
    expect(progress).toMatch(/⏳ evalbot\[bot\] commented on PR #1: ⏳ evalbot: evaluating head [0-9a-f]{7}/);
    expect(progress).toMatch(/^head [0-9a-f]{7}: done: accuracy 0\.905, loss 0\.45/m);
    expect(progress).toMatch(/^base [0-9a-f]{7}: done: accuracy 0\.903, loss 0\.47/m);
    expect((await readdir(logDir)).sort()).toEqual(['gateway.log', 'worker-1.log', 'worker-2.log']);

    // Redis, the gateway and the workers were this process's children; the trainings theirs.
    expect(await liveChildren()).toEqual(childrenBefore);
    expect(await processesWithArg(marker)).toEqual([]);
  }, 120_000);

  it('stops the trainings and every process it started when interrupted, and exits 130', async () => {
    const { source, marker, logDir } = await fakeModelSource(dir, 'slow-model', { sleep: true });
    const interrupt = new AbortController();
    const cli = captureCli({ cwd: dir, signal: interrupt.signal });
    const running = runCli(demoArgs({ source, logDir }, cacheDir), cli.ctx);
    const trainings = await waitFor(
      async () => {
        const pids = await processesWithArg(marker);
        return pids.length === 2 ? pids : null;
      },
      {
        timeoutMs: 60_000,
        what: 'both sides to start training',
      },
    );

    interrupt.abort(new Error('interrupted'));
    expect(await running).toBe(130);
    expect(cli.stderr()).toContain('interrupted; stopping the local stack');
    expect(cli.stderr()).toContain('Stopping the workers, the gateway, the GitHub stand-in and redis-server');
    expect(cli.stdout()).toBe('');
    expect(await liveChildren()).toEqual(childrenBefore);
    for (const pid of trainings) expect(await isRunning(pid)).toBe(false);
  }, 120_000);
});
