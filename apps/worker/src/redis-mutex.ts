import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';

const RELEASE = `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end return 0`;

/**
 * Run `fn` while holding a Redis lock shared by every worker process, so two workers never
 * post or edit the same PR comment at once. The lock expires by itself (`ttlMs`) if its holder
 * dies; waiting for it gives up after `waitMs` with an error (the job is then retried).
 */
export async function withRedisMutex<T>(
  redis: Redis,
  key: string,
  fn: () => Promise<T>,
  opts: { ttlMs?: number; waitMs?: number } = {},
): Promise<T> {
  const token = randomUUID();
  const ttlMs = opts.ttlMs ?? 60_000;
  const deadline = Date.now() + (opts.waitMs ?? 120_000);
  let delay = 20;
  while ((await redis.set(key, token, 'PX', ttlMs, 'NX')) !== 'OK') {
    if (Date.now() > deadline) throw new Error(`timed out waiting for lock ${key}`);
    await new Promise((resolve) => setTimeout(resolve, delay));
    delay = Math.min(delay * 2, 500);
  }
  try {
    return await fn();
  } finally {
    await redis.eval(RELEASE, 1, key, token);
  }
}
