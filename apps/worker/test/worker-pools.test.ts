import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type LocalStack, openMlDemoPullRequest, startLocalStack, waitFor } from '@evalbot/local-stack';
import { fakeTrainer } from '@evalbot/test-utils';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeFakeModelDir } from './fake-model.ts';

/**
 * The fake model, reporting the GPU it was given (`CUDA_VISIBLE_DEVICES`, -1 for none) as a
 * metric, after training long enough that both sides train at once on a 2-GPU worker.
 */
const demoReportingGpu = (accuracy: number) =>
  [
    'import json, os, time',
    'time.sleep(4)',
    'device = os.environ.get("CUDA_VISIBLE_DEVICES")',
    'with open("result.txt", "w") as f:',
    `    json.dump({"accuracy": ${accuracy}, "loss": 0.3, "gpu_device": int(device) if device else -1}, f)`,
    '',
  ].join('\n');

// Worker pools with real processes: one worker of the default pool, one started with
// WORKER_POOLS=gpu and two fake GPUs; the base branch's .evalbot.yml picks the pool.
describe('worker pools', () => {
  let stack: LocalStack;
  let cacheDir: string;
  let modelDir: string;

  beforeAll(async () => {
    cacheDir = await mkdtemp(join(tmpdir(), 'evalbot-pools-cache-'));
    modelDir = await makeFakeModelDir();
    // A short wait for a pool no worker serves: 3 s.
    stack = await startLocalStack({ workers: 1, cacheDir, workerEnv: { EVALBOT_POOL_WAIT_MINUTES: '0.05' } });
    await stack.addWorker({ WORKER_POOLS: 'gpu', EVALBOT_GPU_DEVICES: '0,1' });
  });
  afterAll(async () => {
    await stack?.close();
    await rm(cacheDir, { recursive: true, force: true });
    await rm(modelDir, { recursive: true, force: true });
  });

  const reportOf = async (pr: { owner: string; repo: string; number: number; headSha: string }) => {
    await waitFor(
      () => stack.sim.checkRuns(pr.owner, pr.repo, pr.headSha).some((c) => c.status === 'completed'),
      { timeoutMs: 120_000, intervalMs: 200, what: `the check run of ${pr.repo}` },
    );
    const comments = stack.sim.comments(pr.owner, pr.repo, pr.number);
    expect(comments).toHaveLength(1);
    const checkRun = stack.sim.checkRuns(pr.owner, pr.repo, pr.headSha).find((c) => c.status === 'completed');
    return { body: comments[0]?.body ?? '', checkRun };
  };
  const gpusOf = (body: string) => {
    // The report escapes `_` for Markdown and writes minus signs as −.
    const row = /^\| gpu\\_device \| (−?\d+) \| (−?\d+) \|/m.exec(body);
    expect(row, body).not.toBeNull();
    return [row?.[1], row?.[2]].map((n) => Number(n?.replace('−', '-')));
  };

  it('trains both sides on the gpu pool, each on a GPU of its own, when the base asks for one', async () => {
    const pr = await openMlDemoPullRequest(stack.sim, {
      repo: 'gpu-model',
      sourceDir: modelDir,
      baseFiles: { '.evalbot.yml': 'resources: {gpu: 1}\n', 'demo.py': demoReportingGpu(0.9) },
      headFiles: { 'demo.py': demoReportingGpu(0.91) },
    });
    expect((await stack.deliver(pr.labeledDelivery())).status).toBe(202);
    const { body, checkRun } = await reportOf(pr);
    expect(body).toMatch(/^\| accuracy ↑ \| 90\.00% \| 91\.00% \|/m);
    // Base and head trained at the same time on the two GPUs, never both on one.
    expect(gpusOf(body).sort()).toEqual([0, 1]);
    expect(checkRun?.conclusion).toBe('neutral');
    // Both sides were routed by one read of the base's .evalbot.yml.
    expect(stack.sim.requestsMatching(`GET /repos/${pr.owner}/${pr.repo}/contents/*`)).toHaveLength(1);
  });

  it('runs the sides in the default pool when only the PR asks for a pool', async () => {
    const pr = await openMlDemoPullRequest(stack.sim, {
      repo: 'pool-from-pr',
      sourceDir: modelDir,
      baseFiles: { 'demo.py': demoReportingGpu(0.9) },
      headFiles: { '.evalbot.yml': 'resources: {gpu: 1}\n', 'demo.py': demoReportingGpu(0.91) },
    });
    await stack.deliver(pr.labeledDelivery());
    const { body } = await reportOf(pr);
    expect(body).toMatch(/^\| accuracy ↑ \| 90\.00% \| 91\.00% \|/m);
    // No GPU given: the default pool's worker trained both.
    expect(gpusOf(body)).toEqual([-1, -1]);
  });

  it('tells the PR when no worker serves the pool the base asks for, after the configured wait', async () => {
    const pr = await openMlDemoPullRequest(stack.sim, {
      repo: 'unserved-pool',
      sourceDir: modelDir,
      baseFiles: { '.evalbot.yml': 'resources: {pool: big-memory}\n' },
      headFiles: { 'demo.py': fakeTrainer({ accuracy: 0.91, loss: 0.29 }) },
    });
    const asked = Date.now();
    await stack.deliver(pr.labeledDelivery());
    const { body, checkRun } = await reportOf(pr);
    expect(Date.now() - asked).toBeGreaterThanOrEqual(3_000);
    const message =
      "not run: no evalbot worker serves the pool big-memory, which the base branch's .evalbot.yml asks for (resources: {pool: big-memory}); waited 3 s. Start a worker with WORKER_POOLS=big-memory (or change resources on the base branch), then comment /evaluate";
    // As GitHub renders it: Markdown's escaped underscores are plain ones.
    const shown = (markdown: string) => markdown.replaceAll('\\_', '_');
    expect(shown(body)).toContain(`**Message:** ${message}`);
    expect(shown(checkRun?.output.text ?? '')).toContain(message);
    expect(body).not.toMatch(/^\| accuracy ↑ \| 90\.00% \|/m);
  });

  it('fails a GPU side on a pool worker without a GPU, naming the setting, and stops counting a stopped pool worker', async () => {
    // A worker of a CPU pool: no /dev/nvidia* here, and none configured.
    const cpuWorker = await stack.addWorker({ WORKER_POOLS: 'cpu-pool', EVALBOT_GPU_DEVICES: 'none' });
    const wantsGpu = await openMlDemoPullRequest(stack.sim, {
      repo: 'gpu-on-cpu-pool',
      sourceDir: modelDir,
      baseFiles: { '.evalbot.yml': 'resources: {gpu: 1, pool: cpu-pool}\n' },
      headFiles: { 'demo.py': fakeTrainer({ accuracy: 0.91, loss: 0.29 }) },
    });
    await stack.deliver(wantsGpu.labeledDelivery());
    const failed = await reportOf(wantsGpu);
    expect(failed.body).toContain(
      'this worker of the &quot;cpu-pool&quot; pool has none: set EVALBOT\\_GPU\\_DEVICES on its workers',
    );
    expect(failed.checkRun?.conclusion).toBe('failure');

    // Stopped (SIGTERM), the worker leaves its pool at once: the next side waits, then is reported.
    await cpuWorker.stop();
    const afterStop = await openMlDemoPullRequest(stack.sim, {
      repo: 'stopped-pool',
      sourceDir: modelDir,
      baseFiles: { '.evalbot.yml': 'resources: {pool: cpu-pool}\n' },
      headFiles: { 'demo.py': fakeTrainer({ accuracy: 0.91, loss: 0.29 }) },
    });
    await stack.deliver(afterStop.labeledDelivery());
    const { body } = await reportOf(afterStop);
    expect(body.replaceAll('\\_', '_')).toContain('not run: no evalbot worker serves the pool cpu-pool');
  });
});
