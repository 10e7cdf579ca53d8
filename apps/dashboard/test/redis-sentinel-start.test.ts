import { generateKeyPairSync } from 'node:crypto';
import { chmod, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, type SentinelGroup, spawnApp, startSentinelGroup } from '@evalbot/test-utils';
import { afterAll, beforeAll, expect, it } from 'vitest';

// Each app's process reads REDIS_SENTINELS and REDIS_SENTINEL_MASTER and checks them at start:
// a master name the Sentinels do not monitor is a setting to fix, so the app stops (78) with
// one line instead of waiting for a Redis it will never find.

let group: SentinelGroup;
let dir: string;

beforeAll(async () => {
  group = await startSentinelGroup();
  dir = await mkdtemp(join(tmpdir(), 'evalbot-sentinel-start-'));
  // The worker checks at start that the sandbox uids can reach its work directory.
  await chmod(dir, 0o711);
}, 60_000);

afterAll(async () => {
  await group?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

async function appEnv(app: 'gateway' | 'worker' | 'dashboard'): Promise<Record<string, string>> {
  const redis = {
    REDIS_URL: group.url,
    REDIS_SENTINELS: group.sentinels,
    REDIS_SENTINEL_MASTER: 'not-monitored',
  };
  if (app === 'gateway')
    return {
      ...redis,
      WEBHOOK_SECRET: 'a-webhook-secret',
      PORT: String(await freePort()),
      GATEWAY_METRICS_PORT: String(await freePort()),
    };
  if (app === 'dashboard') return { ...redis, DASHBOARD_PORT: String(await freePort()) };
  return {
    ...redis,
    APP_ID: '1',
    PRIVATE_KEY: generateKeyPairSync('rsa', { modulusLength: 2048 })
      .privateKey.export({ type: 'pkcs1', format: 'pem' })
      .toString(),
    EVALBOT_WORK_DIR: join(dir, 'work'),
    EVALBOT_CACHE_DIR: join(dir, 'cache'),
    ...(process.env.EVALBOT_PYTHON ? { EVALBOT_PYTHON: process.env.EVALBOT_PYTHON } : {}),
    WORKER_METRICS_PORT: String(await freePort()),
  };
}

for (const app of ['gateway', 'worker', 'dashboard'] as const) {
  it(`stops the ${app} at start, naming REDIS_SENTINEL_MASTER, when no Sentinel monitors that master`, {
    timeout: 30_000,
  }, async () => {
    const started = spawnApp(app, await appEnv(app));
    expect(await started.exited).toBe(78);
    const lines = started.stderr().trim().split('\n');
    expect(lines.at(-1)).toMatch(
      new RegExp(
        `^evalbot ${app}: No Sentinel of ${group.sentinels.replaceAll('.', '\\.')} monitors a master named "not-monitored" .*Set REDIS_SENTINEL_MASTER`,
      ),
    );
  });
}
