import {
  freePort,
  type SecuredRedis,
  spawnApp,
  startHoldingProxy,
  startSecuredRedis,
  waitFor,
} from '@evalbot/test-utils';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const TOKEN = 'dashboard-token-0123456789';

// The dashboard's process against a Redis locked down as in production: an ACL user, TLS.
describe('the dashboard and a Redis that asks for a password over TLS', () => {
  let redis: SecuredRedis;
  beforeAll(async () => {
    redis = await startSecuredRedis({
      tls: true,
      users: [
        [
          'dashboard',
          'on',
          '>dashboard-pw-1234',
          '~evalbot:*',
          '&evalbot:*',
          '+@all',
          '-@dangerous',
          '+info',
          '+client|list',
        ],
      ],
    });
  });
  afterAll(async () => {
    await redis?.close();
  });

  const env = (password: string, port: number) => ({
    REDIS_URL: redis.url({ user: 'dashboard', password }),
    REDIS_TLS_CA_FILE: redis.caFile ?? '',
    DASHBOARD_HOST: '127.0.0.1',
    DASHBOARD_PORT: String(port),
    DASHBOARD_TOKEN: TOKEN,
  });

  it('connects with the password and the CA file and shows the queues', async () => {
    const port = await freePort();
    const dashboard = spawnApp('dashboard', env('dashboard-pw-1234', port));
    try {
      let status: number | undefined;
      await waitFor(
        async () => {
          if (dashboard.child.exitCode !== null) throw new Error(`exited: ${dashboard.stderr()}`);
          const response = await fetch(`http://127.0.0.1:${port}/api/queues`, {
            headers: { authorization: `Bearer ${TOKEN}` },
          }).catch(() => undefined);
          status = response?.status;
          return status !== undefined;
        },
        { timeoutMs: 20_000, what: 'the dashboard to answer' },
      );
      expect(status).toBe(200);
    } finally {
      await dashboard.stop();
    }
  });

  it('answers its first request once it says it listens, when Redis is slow to let it connect', async () => {
    const proxy = await startHoldingProxy(
      redis.url({ user: 'dashboard', password: 'dashboard-pw-1234' }),
      2_000,
    );
    const port = await freePort();
    const dashboard = spawnApp('dashboard', { ...env('dashboard-pw-1234', port), REDIS_URL: proxy.url });
    try {
      await dashboard.printed('dashboard listening');
      const response = await fetch(`http://127.0.0.1:${port}/api/queues`, {
        headers: { authorization: `Bearer ${TOKEN}` },
      });
      // It listened before its connection was up, and answered 500 "Stream isn't writeable".
      expect({ status: response.status, body: response.status === 200 ? '' : await response.text() }).toEqual(
        {
          status: 200,
          body: '',
        },
      );
      expect(proxy.connections()).toBeGreaterThan(1);
    } finally {
      await dashboard.stop();
      await proxy.close();
    }
  });

  it('stops at start with one line that names REDIS_URL when Redis refuses the password', async () => {
    const port = await freePort();
    const dashboard = spawnApp('dashboard', env('wrong-pw-5678', port));
    expect(await dashboard.exited).toBe(78);
    expect(dashboard.stderr().trim().split('\n')).toEqual([
      expect.stringMatching(
        /^evalbot dashboard: Redis at rediss:\/\/dashboard:\*\*\*@127\.0\.0\.1:\d+ refused the credentials in REDIS_URL \(WRONGPASS/,
      ),
    ]);
    expect(dashboard.stdout()).not.toContain('reconnecting');
    expect(dashboard.stdout()).not.toContain('dashboard listening');
  });
});
