import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';

const RELEASE = `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end return 0`;
const EXTEND = `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) end return 0`;

export interface RedisMutexOptions {
  /** How long the lock outlives a holder that died (default 60 s). */
  ttlMs?: number;
  /** Give up waiting for the lock after this long, with an error (default 120 s). */
  waitMs?: number;
  /** How often a live holder pushes the expiry back to `ttlMs` (default a third of `ttlMs`). */
  renewEveryMs?: number;
}

/**
 * Run `fn` while holding a Redis lock shared by every worker process, so two workers never
 * post or edit the same PR comment at once. The lock expires by itself (`ttlMs`) if its holder
 * dies; while the holder lives it is renewed every `renewEveryMs`, so a holder that waits
 * longer than `ttlMs` (Octokit honouring a rate limit) keeps it. Waiting for it gives up after
 * `waitMs` with an error (the job is then retried).
 */
export async function withRedisMutex<T>(
  redis: Redis,
  key: string,
  fn: () => Promise<T>,
  opts: RedisMutexOptions = {},
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
  // A failed renewal (a Redis blip) is tried again at the next tick; the TTL leaves two more.
  const renewal = setInterval(
    () => {
      redis.eval(EXTEND, 1, key, token, String(ttlMs)).catch(() => {});
    },
    opts.renewEveryMs ?? Math.floor(ttlMs / 3),
  );
  try {
    return await fn();
  } finally {
    clearInterval(renewal);
    await redis.eval(RELEASE, 1, key, token);
  }
}
