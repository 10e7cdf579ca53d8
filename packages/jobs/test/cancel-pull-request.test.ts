import { sharedRedis, startRedis, testPrefix, waitFor } from '@evalbot/test-utils';
import { Worker } from 'bullmq';
import type { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  CANCELLED_HEAD,
  COMMAND_QUEUE,
  COMPARE_QUEUE,
  cancelPullRequest,
  createJobProducer,
  createRedisConnection,
  EVALUATE_QUEUE,
  type EvaluateCommandJob,
  enqueueEvaluateCommand,
  enqueueEvaluation,
  type JobProducer,
  readPullRequestHead,
  waitForRedisReady,
} from '../src/index.ts';
import { pullRequest, request } from './fixtures.ts';

let redisUrl: string;
let closeRedis: () => Promise<void>;
let connection: Redis;
let producer: JobProducer;
let prefix: string;
const prKey = 'octo-org/hello-ml#7';

beforeAll(async () => {
  ({ url: redisUrl, close: closeRedis } = await sharedRedis());
});
afterAll(async () => closeRedis());
beforeEach(async () => {
  prefix = testPrefix();
  connection = createRedisConnection(redisUrl, { role: 'producer' });
  producer = createJobProducer({ connection, prefix });
  await waitForRedisReady(connection);
});
afterEach(async () => {
  await Promise.all(Object.values(producer.queues).map((q) => q.obliterate({ force: true })));
  const keys = await connection.keys(`${prefix}:*`);
  if (keys.length > 0) await connection.del(...keys);
  await producer.close();
  connection.disconnect();
});

describe('cancelPullRequest', () => {
  it('removes the waiting flow, marks the PR cancelled and lets the same head be queued again', async () => {
    await enqueueEvaluation(producer, { pr: pullRequest(), request: request() });
    const result = await cancelPullRequest(producer, { pr: pullRequest(), reason: 'closed' });
    expect(result).toMatchObject({ status: 'cancelled', removed: [expect.any(String)], running: [] });
    expect(await readPullRequestHead(connection, prefix, prKey)).toBe(CANCELLED_HEAD);
    const counts = await producer.queues[EVALUATE_QUEUE].getJobCounts('wait', 'delayed');
    expect(counts).toEqual({ wait: 0, delayed: 0 });
    expect(await producer.queues[COMPARE_QUEUE].getJobCounts('waiting-children')).toEqual({
      'waiting-children': 0,
    });
    const again = await enqueueEvaluation(producer, {
      pr: pullRequest(),
      request: request({ trigger: 'reopened' }),
    });
    expect(again.status).toBe('queued');
  });

  it('removes the waiting side of a flow whose other side is running', async () => {
    await enqueueEvaluation(producer, { pr: pullRequest(), request: request() });
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
      { connection: { url: redisUrl }, prefix, concurrency: 1 },
    );
    try {
      await started;
      const result = await cancelPullRequest(producer, { pr: pullRequest(), reason: 'unlabeled' });
      expect(result).toMatchObject({ status: 'cancelled', removed: [], running: [expect.any(String)] });
      expect(await producer.queues[EVALUATE_QUEUE].getJobCounts('wait', 'active')).toEqual({
        wait: 0,
        active: 1,
      });
      release();
      await waitFor(async () => (await producer.queues[COMPARE_QUEUE].getJobCounts('wait')).wait === 1, {
        what: 'the compare job to be released once the running side ended',
      });
    } finally {
      await worker.close();
    }
  });

  it('ignores a cancellation older than the last applied event', async () => {
    await enqueueEvaluation(producer, {
      pr: pullRequest({ updatedAt: '2026-01-01T10:00:05Z' }),
      request: request(),
    });
    const result = await cancelPullRequest(producer, {
      pr: pullRequest(),
      reason: 'unlabeled',
      updatedAt: '2026-01-01T10:00:00Z',
    });
    expect(result.status).toBe('stale');
    expect(await producer.queues[EVALUATE_QUEUE].getJobCounts('wait')).toEqual({ wait: 2 });
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
    expect(await enqueueEvaluateCommand(producer, job)).toEqual({
      status: 'queued',
      jobId: `command-${deliveryId}`,
    });
    expect((await enqueueEvaluateCommand(producer, job)).status).toBe('duplicate');
    expect(await producer.queues[COMMAND_QUEUE].getJobCounts('wait')).toEqual({ wait: 1 });
  });
});

describe('createRedisConnection', () => {
  it('fails a producer command at once while Redis is down, and recovers when it is back', async () => {
    const server = await startRedis();
    const redis = createRedisConnection(server.url, { role: 'producer', commandTimeoutMs: 500 });
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
