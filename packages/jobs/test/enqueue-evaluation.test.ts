import { waitFor } from '@evalbot/test-utils';
import { Job, UnrecoverableError, Worker } from 'bullmq';
import { describe, expect, it } from 'vitest';
import {
  COMPARE_QUEUE,
  compareJobSchema,
  createRedisConnection,
  EVALUATE_QUEUE,
  enqueueEvaluation,
  evaluateJobSchema,
  pullRequestEventSchema,
  readPullRequestHead,
} from '../src/index.ts';
import { BASE, HEAD, pullRequest, request, useJobProducer } from './fixtures.ts';

const t = useJobProducer();

describe('enqueueEvaluation', () => {
  it('writes a compare parent with a head and a base child, each payload valid', async () => {
    const result = await enqueueEvaluation(t.producer, { pr: pullRequest(), request: request() });
    expect(result.status).toBe('queued');
    if (result.status !== 'queued') return;

    const parent = await Job.fromId(t.producer.queues[COMPARE_QUEUE], result.jobId);
    expect(parent).toBeDefined();
    expect(await parent?.getState()).toBe('waiting-children');
    const compare = compareJobSchema.parse(parent?.data);
    expect(compare.evaluationKey).toBe(`octo-org/hello-ml#7@${HEAD}..${BASE}`);
    expect(result.evaluationKey).toBe(compare.evaluationKey);

    const head = evaluateJobSchema.parse(
      (await Job.fromId(t.producer.queues[EVALUATE_QUEUE], `${result.jobId}-head`))?.data,
    );
    const base = evaluateJobSchema.parse(
      (await Job.fromId(t.producer.queues[EVALUATE_QUEUE], `${result.jobId}-base`))?.data,
    );
    expect(head).toMatchObject({ side: 'head', sha: HEAD, fetchRefs: [HEAD, 'refs/heads/better-model'] });
    expect(base).toMatchObject({ side: 'base', sha: BASE, fetchRefs: [BASE, 'refs/heads/main'] });
    const child = await Job.fromId(t.producer.queues[EVALUATE_QUEUE], `${result.jobId}-head`);
    expect(child?.opts).toMatchObject({ attempts: 3, backoff: { type: 'exponential' } });
    expect(await t.producer.queues[EVALUATE_QUEUE].getJobCounts('wait')).toEqual({ wait: 2 });
  });

  it('fetches a fork head through refs/pull/N/head', async () => {
    const result = await enqueueEvaluation(t.producer, {
      pr: pullRequest({ fromFork: true }),
      request: request(),
    });
    if (result.status !== 'queued') throw new Error(result.status);
    const head = await Job.fromId(t.producer.queues[EVALUATE_QUEUE], `${result.jobId}-head`);
    expect(head?.data.fetchRefs).toEqual([HEAD, 'refs/pull/7/head']);
  });

  it('does not queue the same head and base twice while the first is waiting', async () => {
    const first = await enqueueEvaluation(t.producer, { pr: pullRequest(), request: request() });
    const second = await enqueueEvaluation(t.producer, {
      pr: pullRequest(),
      request: request({ trigger: 'comment', commentId: 5 }),
    });
    expect(second).toEqual({
      status: 'duplicate',
      jobId: first.status === 'queued' ? first.jobId : '',
      evaluationKey: first.evaluationKey,
    });
    expect((await t.producer.queues[COMPARE_QUEUE].getJobs(['waiting-children'])).length).toBe(1);
  });

  it('queues only one flow when the same evaluation is requested concurrently', async () => {
    const results = await Promise.all(
      Array.from({ length: 8 }, () =>
        enqueueEvaluation(t.producer, { pr: pullRequest(), request: request() }),
      ),
    );
    expect(results.filter((r) => r.status === 'queued')).toHaveLength(1);
    expect((await t.producer.queues[COMPARE_QUEUE].getJobs(['waiting-children'])).length).toBe(1);
  });

  it('runs a finished evaluation again when asked again', async () => {
    const first = await enqueueEvaluation(t.producer, { pr: pullRequest(), request: request() });
    const worker = (queue: string) =>
      new Worker(queue, async () => ({ ok: true }), {
        connection: { url: t.redisUrl },
        prefix: t.prefix,
        concurrency: 2,
      });
    const workers = [worker(EVALUATE_QUEUE), worker(COMPARE_QUEUE)];
    try {
      await waitFor(
        async () => (await t.producer.queues[COMPARE_QUEUE].getJobCounts('completed')).completed === 1,
        { what: 'the first evaluation to finish' },
      );
    } finally {
      await Promise.all(workers.map((w) => w.close()));
    }
    const again = await enqueueEvaluation(t.producer, {
      pr: pullRequest(),
      request: request({ trigger: 'comment', commentId: 9 }),
    });
    expect(again.status).toBe('queued');
    expect(again.status === 'queued' && first.status === 'queued' && again.jobId !== first.jobId).toBe(true);
  });

  it('records the new head, publishes it, and removes the waiting work of the older head', async () => {
    const subscriber = createRedisConnection({ url: t.redisUrl }, { role: 'worker' });
    const messages: unknown[] = [];
    await subscriber.subscribe(`${t.prefix}:pr-events`);
    subscriber.on('message', (_channel, message) => messages.push(JSON.parse(message)));
    try {
      const older = await enqueueEvaluation(t.producer, { pr: pullRequest(), request: request() });
      const newHead = 'c'.repeat(40);
      const newer = await enqueueEvaluation(t.producer, {
        pr: pullRequest({ headSha: newHead }),
        request: request({ trigger: 'synchronize' }),
      });
      expect(newer).toMatchObject({
        status: 'queued',
        superseded: [older.status === 'queued' ? older.jobId : ''],
      });
      expect(await readPullRequestHead(t.connection, t.prefix, 'octo-org/hello-ml#7')).toBe(newHead);
      await waitFor(() => messages.length === 2, { what: 'two PR events' });
      expect(messages.map((m) => pullRequestEventSchema.parse(m))).toEqual([
        { prKey: 'octo-org/hello-ml#7', headSha: HEAD, reason: 'labeled' },
        { prKey: 'octo-org/hello-ml#7', headSha: newHead, reason: 'synchronize' },
      ]);
      expect(await t.producer.queues[EVALUATE_QUEUE].getJobCounts('wait')).toEqual({ wait: 2 });
    } finally {
      subscriber.disconnect();
    }
  });

  it('refuses an event older than the one already applied (GitHub delivers out of order)', async () => {
    await enqueueEvaluation(t.producer, {
      pr: pullRequest({ headSha: 'c'.repeat(40), updatedAt: '2026-01-01T10:00:05Z' }),
      request: request({ trigger: 'synchronize' }),
    });
    const late = await enqueueEvaluation(t.producer, {
      pr: pullRequest({ updatedAt: '2026-01-01T10:00:01Z' }),
      request: request(),
    });
    expect(late).toMatchObject({ status: 'stale', currentHead: 'c'.repeat(40) });
    expect((await t.producer.queues[COMPARE_QUEUE].getJobs(['waiting-children'])).length).toBe(1);
  });

  it('lets the compare job run when a side fails for good', async () => {
    const queued = await enqueueEvaluation(t.producer, { pr: pullRequest(), request: request() });
    if (queued.status !== 'queued') throw new Error(queued.status);
    let ignoredFailures: Record<string, string> = {};
    const evaluate = new Worker(
      EVALUATE_QUEUE,
      async (job) => {
        if (job.data.side === 'head') throw new UnrecoverableError('clone failed: 502');
        return { ok: true };
      },
      { connection: { url: t.redisUrl }, prefix: t.prefix },
    );
    const compare = new Worker(
      COMPARE_QUEUE,
      async (job) => {
        ignoredFailures = (await job.getIgnoredChildrenFailures()) as Record<string, string>;
        return 'compared';
      },
      { connection: { url: t.redisUrl }, prefix: t.prefix },
    );
    try {
      await waitFor(
        async () => (await t.producer.queues[COMPARE_QUEUE].getJobCounts('completed')).completed === 1,
        { what: 'the compare job to run after the head side failed' },
      );
    } finally {
      await Promise.all([evaluate.close(), compare.close()]);
    }
    expect(Object.values(ignoredFailures)).toEqual(['clone failed: 502']);
  });
});
