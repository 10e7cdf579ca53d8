import { deliveryHeaders } from '@evalbot/github-sim';
import {
  freePort,
  type SecuredRedis,
  spawnApp,
  startHoldingProxy,
  startSecuredRedis,
  waitFor,
} from '@evalbot/test-utils';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { delivery, WEBHOOK_PATH } from './gateway-fixtures.ts';

// The gateway's process as `pnpm start:gateway` runs it, against a Redis locked down as in
// production: a password (an ACL user), TLS with a private CA.
describe('the gateway and a Redis that asks for a password over TLS', () => {
  let redis: SecuredRedis;
  beforeAll(async () => {
    redis = await startSecuredRedis({
      tls: true,
      users: [
        ['gateway', 'on', '>gateway-pw-1234', '~evalbot:*', '&evalbot:*', '+@all', '-@dangerous', '+info'],
      ],
    });
  });
  afterAll(async () => {
    await redis?.close();
  });

  const env = (url: string, port: number, metricsPort = 0) => ({
    REDIS_URL: url,
    REDIS_TLS_CA_FILE: redis.caFile ?? '',
    WEBHOOK_SECRET: 'gateway-secret',
    HOST: '127.0.0.1',
    PORT: String(port),
    // /readyz is on the internal port, never the public one.
    GATEWAY_METRICS_PORT: String(metricsPort),
  });

  it('connects with the password and the CA file, and is ready for deliveries', async () => {
    const port = await freePort();
    const metricsPort = await freePort();
    const gateway = spawnApp(
      'gateway',
      env(redis.url({ user: 'gateway', password: 'gateway-pw-1234' }), port, metricsPort),
    );
    try {
      await waitFor(
        async () => {
          if (gateway.child.exitCode !== null) throw new Error(`exited: ${gateway.stderr()}`);
          return (
            (await fetch(`http://127.0.0.1:${metricsPort}/readyz`).catch(() => undefined))?.status === 200
          );
        },
        { timeoutMs: 20_000, what: 'the gateway to be ready over TLS' },
      );
      expect(gateway.stdout()).not.toContain('gateway-pw-1234');
    } finally {
      await gateway.stop();
    }
  });

  it('records the first delivery after it says it is ready, when Redis is slow to let it connect', async () => {
    const proxy = await startHoldingProxy(redis.url({ user: 'gateway', password: 'gateway-pw-1234' }), 2_000);
    const port = await freePort();
    const gateway = spawnApp('gateway', env(proxy.url, port));
    try {
      await gateway.printed('gateway ready for deliveries');
      const labeled = delivery('pull_request', 'labeled', { label: 'evaluate' });
      const response = await fetch(`http://127.0.0.1:${port}${WEBHOOK_PATH}`, {
        method: 'POST',
        headers: await deliveryHeaders(labeled, 'gateway-secret'),
        body: labeled.body,
      });
      // It listened before its connection was up, and answered GitHub 503.
      expect({ status: response.status, body: await response.json() }).toEqual({
        status: 202,
        body: { status: 'recorded', deliveryId: labeled.id },
      });
      expect(proxy.connections()).toBeGreaterThan(1);
    } finally {
      await gateway.stop();
      await proxy.close();
    }
  });

  it('stops at start with one line that names REDIS_URL when Redis refuses the password', async () => {
    const port = await freePort();
    const gateway = spawnApp('gateway', env(redis.url({ user: 'gateway', password: 'wrong-pw-5678' }), port));
    expect(await gateway.exited).toBe(78);
    expect(gateway.stderr().trim().split('\n')).toEqual([
      expect.stringMatching(
        /^evalbot gateway: Redis at rediss:\/\/gateway:\*\*\*@127\.0\.0\.1:\d+ refused the credentials in REDIS_URL \(WRONGPASS/,
      ),
    ]);
    // No reconnect loop, no listening socket: it stopped before either.
    expect(gateway.stdout()).not.toContain('reconnecting');
    expect(gateway.stdout()).not.toContain('gateway ready');
    expect(gateway.stderr() + gateway.stdout()).not.toContain('wrong-pw-5678');
  });

  it('stops at start and says to set REDIS_TLS_CA_FILE when the certificate cannot be verified', async () => {
    const port = await freePort();
    const { REDIS_TLS_CA_FILE: _, ...withoutCa } = env(
      redis.url({ user: 'gateway', password: 'gateway-pw-1234' }),
      port,
    );
    const gateway = spawnApp('gateway', withoutCa);
    expect(await gateway.exited).toBe(78);
    expect(gateway.stderr()).toContain('presented a TLS certificate that cannot be trusted');
    expect(gateway.stderr()).toContain('Set REDIS_TLS_CA_FILE');
  });
});
