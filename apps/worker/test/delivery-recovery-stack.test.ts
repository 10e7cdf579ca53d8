import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createGitHubApp } from '@evalbot/github';
import { COMPARE_QUEUE, RECOVERY_QUEUE } from '@evalbot/jobs';
import { type LocalStack, openMlDemoPullRequest, startLocalStack, waitFor } from '@evalbot/local-stack';
import { createLogger } from '@evalbot/logger';
import { fakeTrainer } from '@evalbot/test-utils';
import { Queue } from 'bullmq';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeFakeModelDir } from './fake-model.ts';

// GitHub does not retry a delivery the gateway could not take. With real processes, a Redis the
// test stops and starts itself and the GitHub stand-in's delivery log, a PR still gets its one
// comment after such an outage, with no one pressing "Redeliver".
describe('recovery of deliveries GitHub could not hand over', { timeout: 180_000 }, () => {
  let stack: LocalStack;
  let cacheDir: string;
  let modelDir: string;
  let recoveryQueue: Queue;
  let compareQueue: Queue;

  beforeAll(async () => {
    cacheDir = await mkdtemp(join(tmpdir(), 'evalbot-recovery-cache-'));
    modelDir = await makeFakeModelDir({ accuracy: 0.9, loss: 0.3 });
    stack = await startLocalStack({
      workers: 1,
      cacheDir,
      workerEnv: { DELIVERY_RECOVERY_INTERVAL_SECONDS: '1', WORKER_LOCK_DURATION_MS: '5000' },
    });
    const connection = { url: stack.redisUrl, maxRetriesPerRequest: null };
    recoveryQueue = new Queue(RECOVERY_QUEUE, { connection, prefix: stack.prefix });
    compareQueue = new Queue(COMPARE_QUEUE, { connection, prefix: stack.prefix });
  });
  afterAll(async () => {
    await recoveryQueue?.close();
    await compareQueue?.close();
    await stack?.close();
    await rm(cacheDir, { recursive: true, force: true });
    await rm(modelDir, { recursive: true, force: true });
  });

  const openPullRequest = (repo: string) =>
    openMlDemoPullRequest(stack.sim, {
      repo,
      sourceDir: modelDir,
      headFiles: { 'demo.py': fakeTrainer({ accuracy: 0.92, loss: 0.25 }) },
    });
  const completedCheckRuns = (pr: { owner: string; repo: string; headSha: string }) =>
    stack.sim.checkRuns(pr.owner, pr.repo, pr.headSha).filter((c) => c.status === 'completed');
  const attemptsOf = (guid: string) => stack.sim.hookDeliveries.filter((a) => a.guid === guid);
  /** Resolves once `passes` more recovery passes have finished. */
  const recoveryPasses = async (passes: number) => {
    const done = await recoveryQueue.getCompletedCount();
    await waitFor(async () => (await recoveryQueue.getCompletedCount()) >= done + passes, {
      timeoutMs: 30_000,
      what: `${passes} more recovery passes`,
    });
  };
  const expectOneReport = async (pr: Awaited<ReturnType<typeof openPullRequest>>) => {
    await waitFor(() => completedCheckRuns(pr).length > 0, {
      timeoutMs: 150_000,
      intervalMs: 200,
      what: 'the report of the recovered delivery',
    });
    const comments = stack.sim.comments(pr.owner, pr.repo, pr.number);
    expect(comments).toHaveLength(1);
    expect(comments[0]?.body).toMatch(/^\| accuracy ↑ \| 90\.00% \| 92\.00% \|/m);
    expect(completedCheckRuns(pr)).toHaveLength(1);
  };

  it('redelivers a delivery answered 503 while Redis was stopped, once Redis is back', async () => {
    const pr = await openPullRequest('while-redis-is-down');
    const delivery = pr.labeledDelivery();
    await stack.redis?.stop();
    const failed = await stack.sim.deliver(delivery);
    expect(failed).toMatchObject({ statusCode: 503, redelivery: false });
    await stack.redis?.start();

    await expectOneReport(pr);
    expect(attemptsOf(delivery.id).map((a) => [a.redelivery, a.statusCode])).toEqual([
      [true, 202],
      [false, 503],
    ]);
    // Later passes leave it alone: it is handed over now.
    await recoveryPasses(2);
    expect(attemptsOf(delivery.id)).toHaveLength(2);
    const metrics = await (await fetch(stack.metricsUrls[0] ?? '')).text();
    expect(metrics).toContain('evalbot_worker_delivery_recovery_total{outcome="redelivered"} 1');
  });

  it('redelivers a delivery GitHub could not connect for while the gateway was down', async () => {
    const pr = await openPullRequest('while-the-gateway-is-down');
    const delivery = pr.labeledDelivery();
    await stack.gateway.stop();
    const failed = await stack.sim.deliver(delivery);
    expect(failed).toMatchObject({ statusCode: 0, status: 'failed to connect to host' });
    await stack.startGateway();

    await expectOneReport(pr);
    // Redelivered until the gateway took it (a pass may have come while it was still starting).
    const attempts = attemptsOf(delivery.id).map((a) => [a.redelivery, a.statusCode]);
    expect(attempts[0]).toEqual([true, 202]);
    expect(attempts.at(-1)).toEqual([false, 0]);
    expect(attempts.filter(([, code]) => code === 202)).toHaveLength(1);
  });

  it('does not evaluate twice a redelivered delivery that had been recorded', async () => {
    const pr = await openPullRequest('redelivered-after-recorded');
    const delivery = pr.labeledDelivery();
    expect((await stack.deliver(delivery)).status).toBe(202);
    await expectOneReport(pr);
    await waitFor(async () => (await compareQueue.getActiveCount()) === 0, { what: 'the flow to finish' });
    const flows = await compareQueue.getJobCounts();

    // Someone presses "Redeliver" in the App's settings.
    const github = createGitHubApp({
      appId: stack.sim.appId,
      privateKey: stack.sim.privateKey ?? '',
      apiUrl: stack.sim.url,
      logger: createLogger({ service: 'evalbot-test', level: 'warn', destination: { write: () => {} } }),
    });
    const [first] = attemptsOf(delivery.id);
    await github.appOctokit.request('POST /app/hook/deliveries/{delivery_id}/attempts', {
      delivery_id: first?.id ?? 0,
    });
    await stack.sim.redeliveriesSettled();
    expect(attemptsOf(delivery.id).map((a) => [a.redelivery, a.statusCode])).toEqual([
      [true, 202],
      [false, 202],
    ]);
    expect(await compareQueue.getJobCounts()).toEqual(flows);
    expect(stack.sim.comments(pr.owner, pr.repo, pr.number)).toHaveLength(1);
    expect(completedCheckRuns(pr)).toHaveLength(1);
  });
});
