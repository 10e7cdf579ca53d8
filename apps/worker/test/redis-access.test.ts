import { generateKeyPairSync } from 'node:crypto';
import { chmod, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EVALUATE_QUEUE } from '@evalbot/jobs';
import { freePort, type SecuredRedis, spawnApp, startSecuredRedis, waitFor } from '@evalbot/test-utils';
import { Queue } from 'bullmq';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const ADMIN_PASSWORD = 'admin-pw-1234';

// The worker's process against a Redis locked down as in production: an ACL user, TLS.
describe('the worker and a Redis that asks for a password over TLS', () => {
  let redis: SecuredRedis;
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'evalbot-worker-redis-'));
    // The sandbox uids pass through it to their job directories.
    await chmod(dir, 0o711);
    redis = await startSecuredRedis({
      tls: true,
      password: ADMIN_PASSWORD,
      users: [
        ['worker', 'on', '>worker-pw-1234', '~evalbot:*', '&evalbot:*', '+@all', '-@dangerous', '+info'],
      ],
    });
  });
  afterAll(async () => {
    await redis?.close();
    await rm(dir, { recursive: true, force: true });
  });

  const env = async (password: string) => ({
    REDIS_URL: redis.url({ user: 'worker', password }),
    REDIS_TLS_CA_FILE: redis.caFile ?? '',
    APP_ID: '1',
    PRIVATE_KEY: generateKeyPairSync('rsa', { modulusLength: 2048 })
      .privateKey.export({ type: 'pkcs1', format: 'pem' })
      .toString(),
    EVALBOT_WORK_DIR: join(dir, 'work'),
    EVALBOT_CACHE_DIR: process.env.EVALBOT_CACHE_DIR ?? join(dir, 'cache'),
    ...(process.env.EVALBOT_PYTHON ? { EVALBOT_PYTHON: process.env.EVALBOT_PYTHON } : {}),
    WORKER_METRICS_PORT: String(await freePort()),
  });

  it('connects with the password and the CA file: its queues list it as a worker', {
    timeout: 60_000,
  }, async () => {
    const worker = spawnApp('worker', await env('worker-pw-1234'));
    const queue = new Queue(EVALUATE_QUEUE, {
      prefix: 'evalbot',
      connection: { url: redis.url({ password: ADMIN_PASSWORD }), tls: { ca: redis.ca } },
    });
    try {
      await waitFor(
        async () => {
          if (worker.child.exitCode !== null) throw new Error(`exited: ${worker.stderr()}`);
          return (await queue.getWorkers()).length > 0;
        },
        { timeoutMs: 45_000, what: 'the worker to take jobs over TLS' },
      );
      const [seen] = await queue.getWorkers();
      expect(seen?.user).toBe('worker');
    } finally {
      await queue.close();
      await worker.stop();
    }
  });

  it('stops at start with one line that names REDIS_URL when Redis refuses the password', {
    timeout: 60_000,
  }, async () => {
    const worker = spawnApp('worker', await env('wrong-pw-5678'));
    expect(await worker.exited).toBe(78);
    expect(worker.stderr().trim().split('\n')).toEqual([
      expect.stringMatching(
        /^evalbot worker: Redis at rediss:\/\/worker:\*\*\*@127\.0\.0\.1:\d+ refused the credentials in REDIS_URL \(WRONGPASS/,
      ),
    ]);
    expect(worker.stdout()).not.toContain('worker started');
    expect(worker.stdout()).not.toContain('reconnecting');
  });
});
