import { randomBytes } from 'node:crypto';
import { type RedisCluster, startRedisCluster } from '@evalbot/test-utils';
import { Cluster } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  CANCELLED_HEAD,
  COMPARE_QUEUE,
  cancelPullRequest,
  createJobProducer,
  EVALUATE_QUEUE,
  enqueueEvaluation,
  pullRequestKeyOf,
  readPullRequestHead,
  redisKeys,
} from '../src/index.ts';
import { pullRequest, request } from './fixtures.ts';

// BullMQ's scripts and evalbot's own (enqueue, cancel) touch many keys at once; on a Redis
// Cluster that only works when every key hashes to one slot, which a hash-tagged prefix gives.

let cluster: RedisCluster;
let connection: Cluster;

beforeAll(async () => {
  cluster = await startRedisCluster();
  connection = new Cluster(cluster.nodes, { redisOptions: { maxRetriesPerRequest: null } });
}, 60_000);

afterAll(async () => {
  // quit, not disconnect: commands still in flight get their answers instead of rejections.
  await connection?.quit().catch(() => connection.disconnect());
  await cluster?.close();
});

/** Every key of {@link redisKeys} under `prefix`, with placeholder arguments. */
function everyEvalbotKey(prefix: string): string[] {
  return Object.values(redisKeys).map((key) => {
    const args = Array.from({ length: key.length - 1 }, (_, i) => `arg-${i}`);
    return (key as (prefix: string, ...rest: string[]) => string)(prefix, ...args);
  });
}

describe('evalbot on a Redis Cluster', () => {
  it("keeps every one of evalbot's keys in the slot of a hash-tagged prefix, as BullMQ keeps its own", async () => {
    const slot = await cluster.keySlot('{evalbot}');
    const keys = [
      ...everyEvalbotKey('{evalbot}'),
      `{evalbot}:${COMPARE_QUEUE}:wait`,
      `{evalbot}:${EVALUATE_QUEUE}:1`,
    ];
    expect(keys.length).toBeGreaterThan(10);
    for (const key of keys) expect(await cluster.keySlot(key), key).toBe(slot);
    // Without the tag the same keys scatter over the cluster.
    const plainSlots = new Set(await Promise.all(everyEvalbotKey('evalbot').map((k) => cluster.keySlot(k))));
    expect(plainSlots.size).toBeGreaterThan(1);
  });

  it('enqueues, deduplicates and cancels an evaluation with BULLMQ_PREFIX={…}', async () => {
    const prefix = `{evalbot-${randomBytes(4).toString('hex')}}`;
    const producer = createJobProducer({ connection, prefix });
    try {
      const first = await enqueueEvaluation(producer, { pr: pullRequest(), request: request() });
      expect(first.status).toBe('queued');
      const again = await enqueueEvaluation(producer, { pr: pullRequest(), request: request() });
      expect(again.status).toBe('duplicate');
      expect(await producer.queues[EVALUATE_QUEUE].getJobCounts('wait')).toEqual({ wait: 2 });

      const cancelled = await cancelPullRequest(producer, { pr: pullRequest(), reason: 'closed' });
      expect(cancelled).toMatchObject({ status: 'cancelled', removed: [expect.any(String)] });
      expect(await readPullRequestHead(connection, prefix, pullRequestKeyOf(pullRequest()))).toBe(
        CANCELLED_HEAD,
      );
      expect(await producer.queues[EVALUATE_QUEUE].getJobCounts('wait')).toEqual({ wait: 0 });
    } finally {
      await Promise.all(
        Object.values(producer.queues).map((q) => q.obliterate({ force: true }).catch(() => {})),
      );
      await producer.close();
    }
  });

  it('refuses to enqueue with a prefix that has no hash tag: Redis answers CROSSSLOT', async () => {
    const producer = createJobProducer({ connection, prefix: `evalbot-${randomBytes(4).toString('hex')}` });
    try {
      await expect(enqueueEvaluation(producer, { pr: pullRequest(), request: request() })).rejects.toThrow(
        "CROSSSLOT Keys in request don't hash to the same slot",
      );
    } finally {
      await producer.close();
    }
  });
});
