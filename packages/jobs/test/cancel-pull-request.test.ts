import { startRedis, waitFor } from '@evalbot/test-utils';
import { Worker } from 'bullmq';
import { describe, expect, it } from 'vitest';
import {
  CANCELLED_HEAD,
  COMMAND_QUEUE,
  COMPARE_QUEUE,
  cancelPullRequest,
  createRedisConnection,
  EVALUATE_QUEUE,
  type EvaluateCommandJob,
  enqueueEvaluateCommand,
  enqueueEvaluation,
  readPullRequestHead,
  waitForRedisReady,
} from '../src/index.ts';
import { pullRequest, request, useJobProducer } from './fixtures.ts';

const t = useJobProducer();
const prKey = 'octo-org/hello-ml#7';

describe('cancelPullRequest', () => {
  it('removes the waiting flow, marks the PR cancelled and lets the same head be queued again', async () => {
    await enqueueEvaluation(t.producer, { pr: pullRequest(), request: request() });
    const result = await cancelPullRequest(t.producer, { pr: pullRequest(), reason: 'closed' });
    expect(result).toMatchObject({ status: 'cancelled', removed: [expect.any(String)], running: [] });
    expect(await readPullRequestHead(t.connection, t.prefix, prKey)).toBe(CANCELLED_HEAD);
    const counts = await t.producer.queues[EVALUATE_QUEUE].getJobCounts('wait', 'delayed');
    expect(counts).toEqual({ wait: 0, delayed: 0 });
    expect(await t.producer.queues[COMPARE_QUEUE].getJobCounts('waiting-children')).toEqual({
      'waiting-children': 0,
    });
    const again = await enqueueEvaluation(t.producer, {
      pr: pullRequest(),
      request: request({ trigger: 'reopened' }),
    });
    expect(again.status).toBe('queued');
  });

  it('removes the waiting side of a flow whose other side is running', async () => {
    await enqueueEvaluation(t.producer, { pr: pullRequest(), request: request() });
    let release = () => {};
    let markStarted = () => {};
    const started = new Promise<void>((resolve) => {
      markStarted = resolve;
    });
    const worker = new Worker(
      EVALUATE_QUEUE,
      () => {
        markStarted();
        return new Promise((done) => {
          release = () => done({ ok: true });
        });
      },
      { connection: { url: t.redisUrl }, prefix: t.prefix, concurrency: 1 },
    );
    try {
      await started;
      const result = await cancelPullRequest(t.producer, { pr: pullRequest(), reason: 'unlabeled' });
      expect(result).toMatchObject({ status: 'cancelled', removed: [], running: [expect.any(String)] });
      expect(await t.producer.queues[EVALUATE_QUEUE].getJobCounts('wait', 'active')).toEqual({
        wait: 0,
        active: 1,
      });
      release();
      await waitFor(async () => (await t.producer.queues[COMPARE_QUEUE].getJobCounts('wait')).wait === 1, {
        what: 'the compare job to be released once the running side ended',
      });
    } finally {
      await worker.close();
    }
  });

  it('ignores a cancellation older than the last applied event', async () => {
    await enqueueEvaluation(t.producer, {
      pr: pullRequest({ updatedAt: '2026-01-01T10:00:05Z' }),
      request: request(),
    });
    const result = await cancelPullRequest(t.producer, {
      pr: pullRequest(),
      reason: 'unlabeled',
      updatedAt: '2026-01-01T10:00:00Z',
    });
    expect(result.status).toBe('stale');
    expect(await t.producer.queues[EVALUATE_QUEUE].getJobCounts('wait')).toEqual({ wait: 2 });
  });
});

describe('enqueueEvaluateCommand', () => {
  it('queues one command per delivery', async () => {
    const deliveryId = crypto.randomUUID();
    const job: EvaluateCommandJob = {
      pr: {
        installationId: 42,
        owner: 'octo-org',
        repo: 'hello-ml',
        number: 7,
        repoHtmlUrl: 'https://github.com/octo-org/hello-ml',
        cloneUrl: 'https://github.com/octo-org/hello-ml.git',
      },
      request: { ...request({ deliveryId }), trigger: 'comment', commentId: 11 },
    };
    expect(await enqueueEvaluateCommand(t.producer, job)).toEqual({
      status: 'queued',
      jobId: `command-${deliveryId}`,
    });
    expect((await enqueueEvaluateCommand(t.producer, job)).status).toBe('duplicate');
    expect(await t.producer.queues[COMMAND_QUEUE].getJobCounts('wait')).toEqual({ wait: 1 });
  });
});

describe('createRedisConnection', () => {
  it('fails a producer command at once while Redis is down, and recovers when it is back', async () => {
    const server = await startRedis();
    const redis = createRedisConnection({ url: server.url }, { role: 'producer', commandTimeoutMs: 500 });
    try {
      await waitForRedisReady(redis);
      await server.stop();
      await waitFor(() => redis.status !== 'ready', { what: 'the connection to notice Redis is gone' });
      const started = Date.now();
      await expect(redis.ping()).rejects.toThrow(/enableOfflineQueue/);
      expect(Date.now() - started).toBeLessThan(100);
      await server.start();
      await waitForRedisReady(redis, 10_000);
      expect(await redis.ping()).toBe('PONG');
    } finally {
      redis.disconnect();
      await server.close();
    }
  });
});
