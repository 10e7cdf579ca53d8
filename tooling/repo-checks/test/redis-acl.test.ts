import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type LocalStack, openMlDemoPullRequest, startLocalStack } from '@evalbot/local-stack';
import {
  fakeTrainer,
  freePort,
  type SecuredRedis,
  spawnApp,
  startSecuredRedis,
  waitFor,
} from '@evalbot/test-utils';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { composeConfig } from './deploy-files.ts';

const PREFIX = `acl-${randomBytes(4).toString('hex')}`;
const PASSWORDS = {
  gateway: randomBytes(12).toString('hex'),
  worker: randomBytes(12).toString('hex'),
  dashboard: randomBytes(12).toString('hex'),
};
const TOKEN = randomBytes(16).toString('hex');

// A model that trains at once: metrics that depend on the learning rate the head changes.
const DEMO_PY = (lr: number) => fakeTrainer({ accuracy: 0.9 + lr, loss: 0.5 - lr });

// Redis started with docker-compose.yml's own command (its users and their ACL rules), and the
// real gateway, worker and dashboard each logged in as their own user: a whole evaluation must
// go through, and what the rules take away must stay out of reach.
describe("docker-compose.yml's Redis users, against the real apps", () => {
  let redis: SecuredRedis;
  let stack: LocalStack;
  let dir: string;
  const url = (user: keyof typeof PASSWORDS) => redis.url({ user, password: PASSWORDS[user] });

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'evalbot-acl-'));
    const env = [
      'APP_ID=1',
      'WEBHOOK_SECRET=webhook-secret',
      'PRIVATE_KEY_PATH=/dev/null',
      `BULLMQ_PREFIX=${PREFIX}`,
      `REDIS_GATEWAY_PASSWORD=${PASSWORDS.gateway}`,
      `REDIS_WORKER_PASSWORD=${PASSWORDS.worker}`,
      `REDIS_DASHBOARD_PASSWORD=${PASSWORDS.dashboard}`,
      '',
    ].join('\n');
    const { services } = await composeConfig(['docker-compose.yml'], env);
    const [program, ...args] = (services.redis.command as unknown[]).map(String);
    expect(program).toBe('redis-server');
    redis = await startSecuredRedis({ args });
    await writeFile(join(dir, 'demo.py'), DEMO_PY(0.001));
    await writeFile(join(dir, 'requirements.txt'), '');
    stack = await startLocalStack({
      workers: 1,
      cacheDir: process.env.EVALBOT_CACHE_DIR ?? join(dir, 'cache'),
      prefix: PREFIX,
      redisUrl: url('worker'),
      gatewayEnv: { REDIS_URL: url('gateway') },
    });
  }, 120_000);
  afterAll(async () => {
    await stack?.close();
    await redis?.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('lets the gateway, the worker and the dashboard each do their part as their own user', async () => {
    const pr = await openMlDemoPullRequest(stack.sim, {
      repo: 'acl',
      sourceDir: dir,
      headFiles: { 'demo.py': DEMO_PY(0.002) },
    });
    expect((await stack.deliver(pr.labeledDelivery())).status).toBe(202);
    const checkRuns = () => stack.sim.checkRuns(pr.owner, pr.repo, pr.headSha);
    await waitFor(() => checkRuns().some((c) => c.status === 'completed'), {
      timeoutMs: 90_000,
      what: 'the evaluation to finish',
    });
    expect(stack.sim.comments(pr.owner, pr.repo, pr.number)[0]?.body).toMatch(
      /\| accuracy ↑ \| 90\.10% \| 90\.20% \|/,
    );

    const port = await freePort();
    const dashboard = spawnApp('dashboard', {
      REDIS_URL: url('dashboard'),
      BULLMQ_PREFIX: PREFIX,
      DASHBOARD_HOST: '127.0.0.1',
      DASHBOARD_PORT: String(port),
      DASHBOARD_TOKEN: TOKEN,
    });
    try {
      const queues = await waitFor(
        async () => {
          if (dashboard.child.exitCode !== null) throw new Error(`exited: ${dashboard.stderr()}`);
          const response = await fetch(`http://127.0.0.1:${port}/api/queues`, {
            headers: { authorization: `Bearer ${TOKEN}` },
          }).catch(() => undefined);
          return response?.ok
            ? ((await response.json()) as { queues: { name: string; counts: Record<string, number> }[] })
            : null;
        },
        { timeoutMs: 20_000, what: 'the dashboard to show the queues' },
      );
      const evaluate = queues.queues.find((q) => q.name === 'evalbot-evaluate');
      expect(evaluate?.counts.completed).toBe(2);
      // The running worker, which the dashboard finds with CLIENT LIST (its one extra command).
      const workers = await fetch(`http://127.0.0.1:${port}/api/queues/evalbot-evaluate/workers`, {
        headers: { authorization: `Bearer ${TOKEN}` },
      });
      expect(((await workers.json()) as { workers: unknown[] | null }).workers).toHaveLength(1);
    } finally {
      await dashboard.stop();
    }
  }, 150_000);

  it("keeps each app's user to evalbot's keys and away from the dangerous commands", async () => {
    for (const user of ['gateway', 'worker', 'dashboard'] as const) {
      const client = new Redis(url(user), { maxRetriesPerRequest: 0, lazyConnect: true });
      try {
        await client.connect();
        expect(await client.set(`${PREFIX}:probe`, user)).toBe('OK');
        await expect(client.set('someone-else:key', 'x'), user).rejects.toThrow(/^NOPERM/);
        await expect(client.flushall(), user).rejects.toThrow(/^NOPERM/);
        await expect(client.config('GET', 'requirepass'), user).rejects.toThrow(/^NOPERM/);
        await expect(client.keys('*'), user).rejects.toThrow(/^NOPERM/);
        await expect(client.call('ACL', 'LIST'), user).rejects.toThrow(/^NOPERM/);
        await client.del(`${PREFIX}:probe`);
      } finally {
        client.disconnect();
      }
    }
  });

  it('lets no one in without a password, and the health check only PING', async () => {
    const anonymous = new Redis(redis.url(), {
      maxRetriesPerRequest: 0,
      lazyConnect: true,
      enableReadyCheck: false,
    });
    anonymous.on('error', () => {});
    try {
      await anonymous.connect();
      await expect(anonymous.get(`${PREFIX}:x`)).rejects.toThrow(/^NOAUTH/);
    } finally {
      anonymous.disconnect();
    }
    const health = new Redis(redis.url({ user: 'healthcheck', password: 'unused' }), {
      maxRetriesPerRequest: 0,
      lazyConnect: true,
      enableReadyCheck: false,
    });
    try {
      await health.connect();
      expect(await health.ping()).toBe('PONG');
      await expect(health.get(`${PREFIX}:x`)).rejects.toThrow(/^NOPERM/);
    } finally {
      health.disconnect();
    }
  });
});
