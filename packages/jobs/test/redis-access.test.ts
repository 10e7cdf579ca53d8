import type { RedisTarget } from '@evalbot/config';
import { freePort, type SecuredRedis, startSecuredRedis, testPrefix } from '@evalbot/test-utils';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  COMMAND_QUEUE,
  createJobProducer,
  createRedisConnection,
  RedisAccessError,
  verifyRedisAccess,
  waitForRedisReady,
} from '../src/index.ts';

/** The error `verifyRedisAccess` rejected with, or a failure when it resolved. */
async function refusal(target: RedisTarget): Promise<RedisAccessError> {
  const error = await verifyRedisAccess(target).then(
    (served) => new Error(`resolved ${served}`),
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(RedisAccessError);
  return error as RedisAccessError;
}

describe('a Redis that asks for a password', () => {
  let redis: SecuredRedis;
  beforeAll(async () => {
    redis = await startSecuredRedis({
      password: 'default-pw-1234',
      users: [
        ['queue', 'on', '>queue-pw-1234', '~evalbot:*', '&evalbot:*', '+@all', '-@dangerous', '+info'],
        ['noinfo', 'on', '>noinfo-pw-1234', '~evalbot:*', '+@all', '-@dangerous'],
      ],
    });
  });
  afterAll(async () => {
    await redis?.close();
  });

  it('serves a connection with the password in REDIS_URL, for the default user and for an ACL user', async () => {
    await expect(verifyRedisAccess({ url: redis.url({ password: 'default-pw-1234' }) })).resolves.toBe(true);
    const url = redis.url({ user: 'queue', password: 'queue-pw-1234' });
    await expect(verifyRedisAccess({ url })).resolves.toBe(true);
    // And BullMQ works through it: a job is recorded under the prefix the user may reach.
    const connection = createRedisConnection({ url }, { role: 'producer' });
    try {
      await waitForRedisReady(connection);
      const producer = createJobProducer({ connection, prefix: 'evalbot' });
      const queue = producer.queues[COMMAND_QUEUE];
      await queue.add('probe', { probe: true });
      expect(await queue.getJobCounts('waiting')).toMatchObject({ waiting: 1 });
      await queue.obliterate({ force: true }).catch(() => queue.drain());
      await producer.close();
    } finally {
      connection.disconnect();
    }
  });

  it('refuses a wrong password with one message that names REDIS_URL and hides the password', async () => {
    const error = await refusal({ url: redis.url({ user: 'queue', password: 'wrong-password-5678' }) });
    expect(error.message).toMatch(
      /^Redis at redis:\/\/queue:\*\*\*@127\.0\.0\.1:\d+ refused the credentials in REDIS_URL \(WRONGPASS/,
    );
    expect(error.message).toContain('redis://USER:PASSWORD@HOST:PORT');
    expect(error.message).not.toContain('wrong-password-5678');
    expect(error.code).toBe('EVALBOT_REDIS_ACCESS_DENIED');
  });

  it('refuses a URL without a password, saying authentication is required', async () => {
    const error = await refusal({ url: redis.url() });
    expect(error.message).toContain('refused the credentials in REDIS_URL (NOAUTH');
  });

  it('refuses a user whose ACL lacks INFO, which BullMQ needs, and points at the ACL to give it', async () => {
    const error = await refusal({ url: redis.url({ user: 'noinfo', password: 'noinfo-pw-1234' }) });
    expect(error.message).toContain("NOPERM this user has no permissions to run the 'info' command");
    expect(error.message).toContain('the ACL in docker-compose.yml');
  });

  it('lets an app start when Redis is merely not there yet: false, not an error', async () => {
    const port = await freePort();
    await expect(
      verifyRedisAccess({ url: `redis://:pw@127.0.0.1:${port}` }, { timeoutMs: 1_000 }),
    ).resolves.toBe(false);
  });
});

describe('a Redis that speaks only TLS, with a certificate from a private CA', () => {
  let redis: SecuredRedis;
  beforeAll(async () => {
    redis = await startSecuredRedis({ tls: true, password: 'tls-pw-1234' });
  });
  afterAll(async () => {
    await redis?.close();
  });

  it('serves rediss:// with the CA given, the password checked over TLS', async () => {
    const url = redis.url({ password: 'tls-pw-1234' });
    expect(url.startsWith('rediss://')).toBe(true);
    await expect(verifyRedisAccess({ url, tlsCa: redis.ca })).resolves.toBe(true);
    const connection = createRedisConnection({ url, tlsCa: redis.ca }, { role: 'worker' });
    try {
      const prefix = testPrefix();
      await connection.set(`${prefix}:tls-probe`, 'over TLS');
      expect(await connection.get(`${prefix}:tls-probe`)).toBe('over TLS');
      await connection.del(`${prefix}:tls-probe`);
    } finally {
      connection.disconnect();
    }
    const wrong = await refusal({ url: redis.url({ password: 'not-it' }), tlsCa: redis.ca });
    expect(wrong.message).toContain('WRONGPASS');
  });

  it('refuses a certificate it cannot verify and says to set REDIS_TLS_CA_FILE', async () => {
    const error = await refusal({ url: redis.url({ password: 'tls-pw-1234' }) });
    expect(error.message).toContain(
      'presented a TLS certificate that cannot be trusted (SELF_SIGNED_CERT_IN_CHAIN',
    );
    expect(error.message).toContain('Set REDIS_TLS_CA_FILE');
  });
});
