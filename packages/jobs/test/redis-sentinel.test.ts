import type { RedisSentinelTarget } from '@evalbot/config';
import { freePort, type SentinelGroup, startRedis, startSentinelGroup, waitFor } from '@evalbot/test-utils';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createRedisConnection,
  RedisAccessError,
  verifyRedisAccess,
  waitForRedisReady,
} from '../src/index.ts';

describe('a Redis Sentinel group', () => {
  let group: SentinelGroup;
  let sentinel: RedisSentinelTarget;
  beforeAll(async () => {
    group = await startSentinelGroup();
    sentinel = { sentinels: group.sentinelAddresses, name: group.master };
  }, 60_000);
  afterAll(async () => {
    await group?.close();
  });

  it('passes the start-up check through the Sentinels, and says "not reachable yet" when none answers', async () => {
    await expect(verifyRedisAccess({ url: group.url, sentinel })).resolves.toBe(true);
    const nowhere = { sentinels: [{ host: '127.0.0.1', port: await freePort() }], name: group.master };
    // Left to ioredis's default, the check would ask the absent Sentinel again forever.
    await expect(
      verifyRedisAccess({ url: group.url, sentinel: nowhere }, { timeoutMs: 1_000 }),
    ).resolves.toBe(false);
  });

  it('moves a producer connection to the promoted replica when the master hangs without closing its connections', async () => {
    const connection = createRedisConnection({ url: group.url, sentinel }, { role: 'producer' });
    try {
      await waitForRedisReady(connection);
      await connection.set('evalbot-test:before', 'written');
      const { switched } = await group.watchFailover();
      const frozen = await group.freezeMaster();
      // The frozen master's sockets stay open: only the Sentinels' +switch-master tells the
      // connection to leave it.
      const promoted = await switched;
      expect(promoted).not.toBe(frozen);
      // A producer fails fast while it reconnects (the gateway answers 503): try until it writes.
      const written = await waitFor(() => connection.set('evalbot-test:after', 'written'), {
        timeoutMs: 15_000,
        intervalMs: 100,
        what: 'a write after the failover',
      });
      expect(written).toBe('OK');
      expect(await connection.get('evalbot-test:before')).toBe('written');
    } finally {
      connection.disconnect();
    }
  }, 60_000);
});

describe('a Sentinel group that speaks only TLS', () => {
  let group: SentinelGroup;
  beforeAll(async () => {
    group = await startSentinelGroup({ tls: true });
  }, 60_000);
  afterAll(async () => {
    await group?.close();
  });

  it('is reached over TLS, Sentinels and master alike, with the CA of REDIS_TLS_CA_FILE', async () => {
    const sentinel = { sentinels: group.sentinelAddresses, name: group.master, tls: true };
    expect(group.url).toMatch(/^rediss:/);
    const target = { url: group.url, sentinel, tlsCa: group.ca };
    await expect(verifyRedisAccess(target)).resolves.toBe(true);
    const connection = createRedisConnection(target, { role: 'producer' });
    try {
      await waitForRedisReady(connection);
      expect(await connection.set('evalbot-test:tls', 'written')).toBe('OK');
    } finally {
      connection.disconnect();
    }
    // Without the CA nothing is trusted: the Sentinels' certificates are refused.
    const refused = await refusal(group.url, sentinel);
    expect(refused.message).toContain('Set REDIS_TLS_CA_FILE');
  });
});

describe('Sentinels that ask for a password', () => {
  let group: SentinelGroup;
  beforeAll(async () => {
    group = await startSentinelGroup({ sentinelPassword: 'sentinel-pw-1234' });
  }, 60_000);
  afterAll(async () => {
    await group?.close();
  });
  const sentinelOf = (name: string, password?: string): RedisSentinelTarget => ({
    sentinels: group.sentinelAddresses,
    name,
    ...(password ? { password } : {}),
  });

  it('are reached with REDIS_SENTINEL_PASSWORD', async () => {
    await expect(
      verifyRedisAccess({ url: group.url, sentinel: sentinelOf(group.master, 'sentinel-pw-1234') }),
    ).resolves.toBe(true);
  });

  it('stop an app at start, naming REDIS_SENTINEL_PASSWORD, when it is wrong or missing', async () => {
    const wrong = await refusal(group.url, sentinelOf(group.master, 'wrong-pw-5678'));
    expect(wrong.message).toMatch(
      /^The Sentinels 127\.0\.0\.1:\d+,127\.0\.0\.1:\d+,127\.0\.0\.1:\d+ refused the password in REDIS_SENTINEL_PASSWORD \(WRONGPASS/,
    );
    expect(wrong.message).not.toContain('wrong-pw-5678');
    const missing = await refusal(group.url, sentinelOf(group.master));
    expect(missing.message).toContain('refused to answer without a password (NOAUTH');
    expect(missing.message).toContain("Set REDIS_SENTINEL_PASSWORD to the Sentinels' own password");
  });

  it('stop an app at start, naming REDIS_SENTINEL_MASTER, when no Sentinel monitors that master', async () => {
    const error = await refusal(group.url, sentinelOf('no-such-master', 'sentinel-pw-1234'));
    expect(error.message).toContain('monitors a master named "no-such-master"');
    expect(error.message).toContain(
      'Set REDIS_SENTINEL_MASTER to the name in their `sentinel monitor NAME …` line',
    );
  });
});

/** The error `verifyRedisAccess` rejected with, or a failure when it resolved. */
async function refusal(url: string, sentinel: RedisSentinelTarget): Promise<RedisAccessError> {
  const error = await verifyRedisAccess({ url, sentinel }, { timeoutMs: 2_000 }).then(
    (served) => new Error(`resolved ${served}`),
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(RedisAccessError);
  return error as RedisAccessError;
}

it('follows a server demoted to a replica: a write waits through READONLY and lands once it is master again', async () => {
  const [server, other] = await Promise.all([startRedis(), startRedis()]);
  const connection = createRedisConnection({ url: server.url }, { role: 'worker' });
  const admin = createRedisConnection({ url: server.url }, { role: 'worker' });
  try {
    await Promise.all([waitForRedisReady(connection), waitForRedisReady(admin)]);
    await admin.replicaof('127.0.0.1', other.port);
    const reconnected = new Promise((resolve) => connection.once('reconnecting', resolve));
    const write = connection.set('evalbot-test:demoted', 'written');
    // The server answered READONLY and the connection went to find a master again.
    await reconnected;
    await admin.replicaof('NO', 'ONE');
    expect(await write).toBe('OK');
    expect(await admin.get('evalbot-test:demoted')).toBe('written');
  } finally {
    connection.disconnect();
    admin.disconnect();
    await Promise.all([server.close(), other.close()]);
  }
}, 30_000);
