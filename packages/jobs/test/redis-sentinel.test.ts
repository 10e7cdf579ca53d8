import { freePort, type SentinelGroup, startRedis, startSentinelGroup, waitFor } from '@evalbot/test-utils';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createRedisConnection,
  type RedisSentinelOptions,
  verifyRedisAccess,
  waitForRedisReady,
} from '../src/index.ts';

describe('a Redis Sentinel group', () => {
  let group: SentinelGroup;
  let sentinel: RedisSentinelOptions;
  beforeAll(async () => {
    group = await startSentinelGroup();
    sentinel = { sentinels: group.sentinelAddresses, name: group.master };
  }, 60_000);
  afterAll(async () => {
    await group?.close();
  });

  it('passes the start-up check through the Sentinels, and says "not reachable yet" when none answers', async () => {
    await expect(verifyRedisAccess(group.url, { sentinel })).resolves.toBe(true);
    const nowhere = { sentinels: [{ host: '127.0.0.1', port: await freePort() }], name: group.master };
    // Left to ioredis's default, the check would ask the absent Sentinel again forever.
    await expect(verifyRedisAccess(group.url, { sentinel: nowhere, timeoutMs: 1_000 })).resolves.toBe(false);
  });

  it('moves a producer connection to the promoted replica when the master hangs without closing its connections', async () => {
    const connection = createRedisConnection(group.url, { role: 'producer', sentinel });
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

it('follows a server demoted to a replica: a write waits through READONLY and lands once it is master again', async () => {
  const [server, other] = await Promise.all([startRedis(), startRedis()]);
  const connection = createRedisConnection(server.url, { role: 'worker' });
  const admin = createRedisConnection(server.url, { role: 'worker' });
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
