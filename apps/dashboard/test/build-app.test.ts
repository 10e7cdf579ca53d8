import { COMMAND_QUEUE, COMPARE_QUEUE, DELIVERY_QUEUE, EVALUATE_QUEUE, QUEUE_NAMES } from '@evalbot/jobs';
import { sharedRedis, testPrefix } from '@evalbot/test-utils';
import { Queue } from 'bullmq';
import type { FastifyInstance } from 'fastify';
import { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { buildApp } from '../src/build-app.ts';
import type { DashboardCredentials } from '../src/config.ts';
import {
  addCommandJob,
  addEvaluationFlow,
  addFailedJob,
  addRoutedDelivery,
  removeQueues,
} from './seed-jobs.ts';

interface QueueView {
  name: string;
  counts: Record<string, number>;
  jobs: {
    id: string;
    name: string;
    progress: unknown;
    externalUrl?: { href: string };
    returnValue?: unknown;
  }[];
  readOnlyMode: boolean;
  allowRetries: boolean;
}

const basic = (user: string, password: string) =>
  `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;
const TOKEN = 'dashboard-token-0123456789abcdef';

let redis: { url: string; close: () => Promise<void> };
let connection: Redis;
let prefix: string;
let app: FastifyInstance | undefined;

beforeAll(async () => {
  redis = await sharedRedis();
  connection = new Redis(redis.url, { maxRetriesPerRequest: null });
});
afterAll(async () => {
  await connection.quit();
  await redis.close();
});
afterEach(async () => {
  await app?.close();
  app = undefined;
  await removeQueues(connection, prefix);
});

async function start(credentials: DashboardCredentials, basePath = '/') {
  prefix = testPrefix();
  app = await buildApp({ config: { prefix, basePath, credentials }, connection });
  return app;
}

describe('authentication', () => {
  const credentials = { basic: { user: 'admin', password: 's3cret-pass' } };

  it('answers 401 with a Basic challenge without credentials', async () => {
    const dashboard = await start(credentials);
    for (const url of ['/', '/api/queues', '/queue/evalbot-evaluate']) {
      const response = await dashboard.inject({ url });
      expect(response.statusCode, url).toBe(401);
      expect(response.headers['www-authenticate']).toMatch(/^Basic realm="evalbot dashboard"/);
      expect(response.json().message).toMatch(/DASHBOARD_USER and DASHBOARD_PASSWORD/);
    }
  });

  it('answers 401 to a wrong password, a wrong user and a malformed header', async () => {
    const dashboard = await start(credentials);
    for (const authorization of [
      basic('admin', 'wrong'),
      basic('root', 's3cret-pass'),
      basic('admin', 's3cret-pass-and-more'),
      'Basic not-base64-at-all',
      `Bearer ${TOKEN}`,
    ]) {
      const response = await dashboard.inject({ url: '/api/queues', headers: { authorization } });
      expect(response.statusCode, authorization).toBe(401);
    }
  });

  it('serves the board to the right user and password', async () => {
    const dashboard = await start(credentials);
    const page = await dashboard.inject({
      url: '/',
      headers: { authorization: basic('admin', 's3cret-pass') },
    });
    expect(page.statusCode).toBe(200);
    expect(page.body).toContain('<title>evalbot</title>');
  });

  it('accepts the token as a bearer header, and as ?token= once, turned into a cookie', async () => {
    const dashboard = await start({ token: TOKEN });
    expect((await dashboard.inject({ url: '/api/queues' })).headers['www-authenticate']).toMatch(/^Bearer/);
    const bearer = await dashboard.inject({
      url: '/api/queues',
      headers: { authorization: `Bearer ${TOKEN}` },
    });
    expect(bearer.statusCode).toBe(200);

    const wrong = await dashboard.inject({ url: `/?token=${TOKEN}x` });
    expect(wrong.statusCode).toBe(401);

    const login = await dashboard.inject({ url: `/queue/${EVALUATE_QUEUE}?status=failed&token=${TOKEN}` });
    expect(login.statusCode).toBe(303);
    expect(login.headers.location).toBe(`/queue/${EVALUATE_QUEUE}?status=failed`);
    const setCookie = String(login.headers['set-cookie']);
    expect(setCookie).toMatch(/HttpOnly/);
    expect(setCookie).toMatch(/SameSite=Strict/);
    expect(setCookie).not.toContain(TOKEN);

    const cookie = setCookie.split(';')[0] ?? '';
    const withCookie = await dashboard.inject({ url: '/api/queues', headers: { cookie } });
    expect(withCookie.statusCode).toBe(200);
    const forged = await dashboard.inject({ url: '/api/queues', headers: { cookie: `${cookie}x` } });
    expect(forged.statusCode).toBe(401);
  });

  it('keeps the health probe open and free of job data', async () => {
    const dashboard = await start(credentials);
    const response = await dashboard.inject({ url: '/healthz' });
    expect(response.statusCode).toBe(200);
    expect(response.json()).toEqual({ ok: true });
  });

  it('refuses job changes sent from another site', async () => {
    const dashboard = await start(credentials);
    const response = await dashboard.inject({
      method: 'PUT',
      url: `/api/queues/${EVALUATE_QUEUE}/retry/failed`,
      headers: { authorization: basic('admin', 's3cret-pass'), origin: 'https://evil.example' },
    });
    expect(response.statusCode).toBe(403);
  });
});

describe('jobs', () => {
  const auth = { authorization: basic('admin', 's3cret-pass') };
  const credentials = { basic: { user: 'admin', password: 's3cret-pass' } };

  it('lists every queue with the PR, side and commit of each job', async () => {
    const dashboard = await start(credentials);
    await addEvaluationFlow(connection, prefix);

    const evaluate = await dashboard.inject({
      url: `/api/queues?activeQueue=${EVALUATE_QUEUE}&status=waiting&page=1&jobsPerPage=10`,
      headers: auth,
    });
    expect(evaluate.statusCode).toBe(200);
    const queues = evaluate.json().queues as QueueView[];
    expect(queues.map((q) => q.name).sort()).toEqual([...QUEUE_NAMES].sort());

    const evaluateQueue = queues.find((q) => q.name === EVALUATE_QUEUE);
    expect(evaluateQueue?.counts.waiting).toBe(2);
    expect(evaluateQueue?.jobs.map((j) => j.name).sort()).toEqual([
      'octo/mnist#12 base def5678',
      'octo/mnist#12 head abc1234',
    ]);
    expect(evaluateQueue?.jobs[0]?.externalUrl?.href).toBe('https://github.com/octo/mnist/pull/12');
    expect(evaluateQueue).toMatchObject({ readOnlyMode: false, allowRetries: true });

    const compare = await dashboard.inject({
      url: `/api/queues?activeQueue=${COMPARE_QUEUE}&status=waiting-children&page=1&jobsPerPage=10`,
      headers: auth,
    });
    const compareQueue = (compare.json().queues as QueueView[]).find((q) => q.name === COMPARE_QUEUE);
    expect(compareQueue?.counts['waiting-children']).toBe(1);
    expect(compareQueue?.jobs.map((j) => j.name)).toEqual(['octo/mnist#12 compare abc1234..def5678']);
  });

  it('titles a comment command with its PR and who asked', async () => {
    const dashboard = await start(credentials);
    await addCommandJob(connection, prefix);
    const response = await dashboard.inject({
      url: `/api/queues?activeQueue=${COMMAND_QUEUE}&status=waiting&page=1&jobsPerPage=10`,
      headers: auth,
    });
    const commands = (response.json().queues as QueueView[]).find((q) => q.name === COMMAND_QUEUE);
    expect(commands?.jobs.map((j) => j.name)).toEqual(['octo/mnist#12 /evaluate by hubot']);
    expect(commands?.jobs[0]?.externalUrl?.href).toBe('https://github.com/octo/mnist/pull/12');
  });

  it('shows the delivery log: what GitHub sent, for which PR, and what became of it', async () => {
    const dashboard = await start(credentials);
    await addRoutedDelivery(connection, prefix);
    const response = await dashboard.inject({
      url: `/api/queues?activeQueue=${DELIVERY_QUEUE}&status=completed&page=1&jobsPerPage=10`,
      headers: auth,
    });
    const log = (response.json().queues as QueueView[]).find((q) => q.name === DELIVERY_QUEUE);
    expect(log?.jobs.map((j) => j.name)).toEqual([
      'octo/mnist#12 pull_request.labeled f2a1c3d0-1111-4222-8333-944455556666',
    ]);
    expect(log?.jobs[0]?.externalUrl?.href).toBe('https://github.com/octo/mnist/pull/12');
    expect(log?.jobs[0]).toMatchObject({ returnValue: { status: 'queued', jobId: 'eval-1' } });
  });

  it("shows a failed job's stage, log and reason, and retries it from the API", async () => {
    const dashboard = await start(credentials);
    const jobId = await addFailedJob(connection, prefix, {
      logLines: ['cloning octo/mnist at abc1234', 'pip install -r requirements.txt: exit 1'],
      reason: 'setup failed: tensorflow==9.9 not found',
    });

    const list = await dashboard.inject({
      url: `/api/queues?activeQueue=${EVALUATE_QUEUE}&status=failed&page=1&jobsPerPage=10`,
      headers: auth,
    });
    const failed = (list.json().queues as QueueView[]).find((q) => q.name === EVALUATE_QUEUE);
    expect(failed?.counts.failed).toBe(1);
    expect(failed?.jobs[0]).toMatchObject({
      id: jobId,
      name: 'octo/mnist#12 head abc1234',
      progress: { stage: 'setup', message: 'installing requirements', percent: 30 },
      failedReason: 'setup failed: tensorflow==9.9 not found',
    });

    const logs = await dashboard.inject({
      url: `/api/queues/${EVALUATE_QUEUE}/${jobId}/logs`,
      headers: auth,
    });
    expect(logs.json()).toEqual(['cloning octo/mnist at abc1234', 'pip install -r requirements.txt: exit 1']);

    const retry = await dashboard.inject({
      method: 'PUT',
      url: `/api/queues/${EVALUATE_QUEUE}/${jobId}/retry`,
      headers: auth,
    });
    expect(retry.statusCode).toBeLessThan(300);
    const counts = await dashboard.inject({
      url: `/api/queues?activeQueue=${EVALUATE_QUEUE}&status=waiting&page=1&jobsPerPage=10`,
      headers: auth,
    });
    const after = (counts.json().queues as QueueView[]).find((q) => q.name === EVALUATE_QUEUE);
    expect(after?.counts).toMatchObject({ failed: 0, waiting: 1 });
  });

  it('serves /metrics to a scraper with the credentials: queue depths by state and the process', async () => {
    const dashboard = await start(credentials);
    await addEvaluationFlow(connection, prefix);
    await addCommandJob(connection, prefix);
    expect((await dashboard.inject({ url: '/metrics' })).statusCode).toBe(401);
    const response = await dashboard.inject({ url: '/metrics', headers: auth });
    expect(response.statusCode).toBe(200);
    expect(response.headers['content-type']).toMatch(/^text\/plain; version=0\.0\.4/);
    const lines = response.body.split('\n');
    expect(lines).toEqual(
      expect.arrayContaining([
        `evalbot_queue_jobs{queue="${EVALUATE_QUEUE}",state="waiting"} 2`,
        `evalbot_queue_jobs{queue="${COMPARE_QUEUE}",state="waiting-children"} 1`,
        `evalbot_queue_jobs{queue="${COMMAND_QUEUE}",state="waiting"} 1`,
        `evalbot_queue_jobs{queue="${EVALUATE_QUEUE}",state="failed"} 0`,
      ]),
    );
    expect(response.body).toMatch(/^process_resident_memory_bytes \d+/m);
  });

  it("shows a worker pool's queue within 10 s of a side being sent to it, on the board and in /metrics", async () => {
    const dashboard = await start(credentials);
    const gpu = new Queue(`${EVALUATE_QUEUE}-gpu`, { connection, prefix });
    // Redis is looked at again at most every 10 s. Only the clock is faked (Redis and HTTP run),
    // and from before the first request, which starts the 10 s: however slow the steps between,
    // the board is asked at exactly 9.999 s and 10 s after it.
    const startedAt = Date.now();
    vi.useFakeTimers({ toFake: ['Date'] });
    vi.setSystemTime(startedAt);
    try {
      const before = await dashboard.inject({ url: '/api/queues', headers: auth });
      expect((before.json().queues as QueueView[]).map((q) => q.name)).not.toContain(`${EVALUATE_QUEUE}-gpu`);
      await gpu.add('octo/model#7 head', { side: 'head' }, { jobId: 'octo-model-7-head' });
      const listGpu = () =>
        dashboard.inject({
          url: `/api/queues?activeQueue=${EVALUATE_QUEUE}-gpu&status=waiting&page=1&jobsPerPage=10`,
          headers: auth,
        });
      const gpuView = async () =>
        ((await listGpu()).json().queues as QueueView[]).find((q) => q.name === `${EVALUATE_QUEUE}-gpu`);
      vi.setSystemTime(startedAt + 9_999);
      expect(await gpuView()).toBeUndefined();
      vi.setSystemTime(startedAt + 10_000);
      expect((await gpuView())?.counts.waiting).toBe(1);
      const metrics = await dashboard.inject({ url: '/metrics', headers: auth });
      expect(metrics.body.split('\n')).toContain(
        `evalbot_queue_jobs{queue="${EVALUATE_QUEUE}-gpu",state="waiting"} 1`,
      );
    } finally {
      vi.useRealTimers();
      await gpu.obliterate({ force: true });
      await gpu.close();
    }
  });

  it('serves the board and its API under a base path', async () => {
    const dashboard = await start(credentials, '/ops/queues/');
    const page = await dashboard.inject({ url: '/ops/queues/', headers: auth });
    expect(page.statusCode).toBe(200);
    expect(page.body).toContain('<base href="/ops/queues/"');
    const api = await dashboard.inject({ url: '/ops/queues/api/queues', headers: auth });
    expect(api.statusCode).toBe(200);
  });
});
