import { pullRequest, sharedRedis, testPrefix } from '@evalbot/test-utils';
import type { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, beforeEach } from 'vitest';
import {
  createJobProducer,
  createRedisConnection,
  type EvaluationRequest,
  type JobProducer,
  waitForRedisReady,
} from '../src/index.ts';

// The PR builder is test-utils' (the dashboard's tests seed the same payloads); re-exported so
// the jobs tests import one file.
export { pullRequest } from '@evalbot/test-utils';

export const HEAD = pullRequest().headSha;
export const BASE = pullRequest().baseSha;

export function request(overrides: Partial<EvaluationRequest> = {}): EvaluationRequest {
  return {
    trigger: 'labeled',
    deliveryId: crypto.randomUUID(),
    sender: 'alice',
    requestedAt: new Date().toISOString(),
    ...overrides,
  };
}

export interface ProducerContext {
  redisUrl: string;
  connection: Redis;
  producer: JobProducer;
  /** This test's own BullMQ prefix. */
  prefix: string;
}

/**
 * Registers hooks giving each test of the file a job producer on its own prefix of the shared
 * Redis; after the test, its queues and every key under its prefix are removed. Read the
 * returned object's fields inside tests (they change per test).
 */
export function useJobProducer(): ProducerContext {
  const ctx = {} as ProducerContext;
  let closeRedis: () => Promise<void>;
  beforeAll(async () => {
    ({ url: ctx.redisUrl, close: closeRedis } = await sharedRedis());
  });
  afterAll(async () => closeRedis());
  beforeEach(async () => {
    ctx.prefix = testPrefix();
    ctx.connection = createRedisConnection({ url: ctx.redisUrl }, { role: 'producer' });
    ctx.producer = createJobProducer({ connection: ctx.connection, prefix: ctx.prefix });
    await waitForRedisReady(ctx.connection);
  });
  afterEach(async () => {
    const { producer, connection, prefix } = ctx;
    await Promise.all(Object.values(producer.queues).map((q) => q.obliterate({ force: true })));
    const keys = await connection.keys(`${prefix}:*`);
    if (keys.length > 0) await connection.del(...keys);
    await producer.close();
    connection.disconnect();
  });
  return ctx;
}
