import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { freePort, sharedRedis } from '@evalbot/test-utils';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const APP_DIR = fileURLToPath(new URL('..', import.meta.url));

/** Run `pnpm start`'s command for the dashboard with exactly `env` (plus PATH). */
function startDashboard(env: Record<string, string>) {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
    cwd: APP_DIR,
    env: { PATH: process.env.PATH ?? '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk) => {
    stdout += chunk;
  });
  child.stderr.on('data', (chunk) => {
    stderr += chunk;
  });
  const exited = once(child, 'exit').then(([code]) => code as number | null);
  return { child, exited, output: () => ({ stdout, stderr }) };
}

describe('the dashboard process', () => {
  let redis: { url: string; close: () => Promise<void> };
  beforeAll(async () => {
    redis = await sharedRedis();
  });
  afterAll(async () => {
    await redis.close();
  });

  it('refuses to start on 0.0.0.0 without credentials and names the variables to set', async () => {
    const dashboard = startDashboard({ REDIS_URL: redis.url, DASHBOARD_HOST: '0.0.0.0' });
    expect(await dashboard.exited).toBe(78);
    const { stderr } = dashboard.output();
    expect(stderr).toContain('DASHBOARD_USER and DASHBOARD_PASSWORD');
    expect(stderr).toContain('DASHBOARD_TOKEN');
  });

  it('starts with credentials, asks for them, and stops cleanly on SIGTERM', async () => {
    const port = await freePort();
    const dashboard = startDashboard({
      REDIS_URL: redis.url,
      DASHBOARD_HOST: '127.0.0.1',
      DASHBOARD_PORT: String(port),
      DASHBOARD_USER: 'admin',
      DASHBOARD_PASSWORD: 'process-test-pw',
    });
    try {
      await new Promise<void>((resolve, reject) => {
        dashboard.child.stdout.on('data', () => {
          if (dashboard.output().stdout.includes('dashboard listening')) resolve();
        });
        void dashboard.exited.then((code) =>
          reject(new Error(`exited ${code}: ${dashboard.output().stderr}`)),
        );
      });
      expect((await fetch(`http://127.0.0.1:${port}/api/queues`)).status).toBe(401);
      const authorization = `Basic ${Buffer.from('admin:process-test-pw').toString('base64')}`;
      expect(
        (await fetch(`http://127.0.0.1:${port}/api/queues`, { headers: { authorization } })).status,
      ).toBe(200);
      expect(dashboard.output().stdout).not.toContain('process-test-pw');
    } finally {
      dashboard.child.kill('SIGTERM');
    }
    expect(await dashboard.exited).toBe(0);
  });
});
