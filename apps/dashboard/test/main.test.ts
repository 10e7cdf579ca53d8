import { freePort, sharedRedis, spawnApp } from '@evalbot/test-utils';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

describe('the dashboard process', () => {
  let redis: { url: string; close: () => Promise<void> };
  beforeAll(async () => {
    redis = await sharedRedis();
  });
  afterAll(async () => {
    await redis.close();
  });

  it('refuses to start on 0.0.0.0 without credentials and names the variables to set', async () => {
    const dashboard = spawnApp('dashboard', { REDIS_URL: redis.url, DASHBOARD_HOST: '0.0.0.0' });
    expect(await dashboard.exited).toBe(78);
    const stderr = dashboard.stderr();
    expect(stderr).toContain('DASHBOARD_USER and DASHBOARD_PASSWORD');
    expect(stderr).toContain('DASHBOARD_TOKEN');
  });

  it('starts with credentials, asks for them, and stops cleanly on SIGTERM', async () => {
    const port = await freePort();
    const dashboard = spawnApp('dashboard', {
      REDIS_URL: redis.url,
      DASHBOARD_HOST: '127.0.0.1',
      DASHBOARD_PORT: String(port),
      DASHBOARD_USER: 'admin',
      DASHBOARD_PASSWORD: 'process-test-pw',
    });
    try {
      await new Promise<void>((resolve, reject) => {
        dashboard.child.stdout?.on('data', () => {
          if (dashboard.stdout().includes('dashboard listening')) resolve();
        });
        void dashboard.exited.then((code) => reject(new Error(`exited ${code}: ${dashboard.stderr()}`)));
      });
      expect((await fetch(`http://127.0.0.1:${port}/api/queues`)).status).toBe(401);
      const authorization = `Basic ${Buffer.from('admin:process-test-pw').toString('base64')}`;
      expect(
        (await fetch(`http://127.0.0.1:${port}/api/queues`, { headers: { authorization } })).status,
      ).toBe(200);
      expect(dashboard.stdout()).not.toContain('process-test-pw');
    } finally {
      dashboard.child.kill('SIGTERM');
    }
    expect(await dashboard.exited).toBe(0);
  });
});
