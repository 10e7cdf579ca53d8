import { execFileSync } from 'node:child_process';
import { type RedisServer, startRedis, waitFor } from '@evalbot/test-utils';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BASE, delivery, deliveryLog, send, startGateway } from './gateway-fixtures.ts';

const TIMEOUT_MS = 400;
let server: RedisServer;

beforeAll(async () => {
  server = await startRedis();
});
afterAll(async () => server.close());

const readyz = async (gw: { internal: Parameters<typeof send>[0] }) =>
  (await gw.internal.inject({ method: 'GET', url: '/readyz' })).statusCode;

async function timed<T>(work: () => Promise<T>): Promise<[T, number]> {
  const started = performance.now();
  const result = await work();
  return [result, performance.now() - started];
}

describe('when Redis is down or slow', () => {
  it('answers 503 at once while Redis is stopped, and takes the redelivery once it is back', async () => {
    const gw = await startGateway(server.url, { ENQUEUE_TIMEOUT_MS: String(TIMEOUT_MS) });
    try {
      expect(
        (await send(gw.app, delivery('pull_request', 'labeled', { label: 'evaluate' }))).statusCode,
      ).toBe(202);
      await server.stop();

      const newHead = 'd4'.repeat(20);
      const push = delivery('pull_request', 'synchronize', {
        pullRequest: { number: 7, headSha: newHead, baseSha: BASE, labels: ['evaluate'] },
      });
      const [res, ms] = await timed(() => send(gw.app, push));
      expect(res.statusCode).toBe(503);
      expect(res.headers['retry-after']).toBe('10');
      expect(res.json()).toEqual({
        status: 'unavailable',
        reason: expect.stringMatching(/^Redis is unavailable .*redeliver this delivery later$/),
      });
      expect(ms).toBeLessThan(TIMEOUT_MS + 600);
      expect(await readyz(gw)).toBe(503);
      expect((await gw.app.inject({ method: 'GET', url: '/healthz' })).statusCode).toBe(200);
      // Ignored events do not need Redis.
      expect((await send(gw.app, delivery('push', undefined))).statusCode).toBe(202);

      await server.start();
      await waitFor(async () => (await readyz(gw)) === 200, { what: 'the gateway to reconnect' });
      const redelivered = await send(gw.app, push);
      expect(redelivered.statusCode).toBe(202);
      expect(redelivered.json()).toEqual({ status: 'recorded', deliveryId: push.id });
      const log = await deliveryLog(gw.producer);
      // This Redis keeps nothing across a restart: only the redelivery is in the log.
      expect(log.map((j) => j.id)).toEqual([push.id]);
    } finally {
      await gw.close();
    }
  });

  it('starts while Redis is down and serves once it comes up', async () => {
    await server.stop();
    const gw = await startGateway(
      server.url,
      { ENQUEUE_TIMEOUT_MS: String(TIMEOUT_MS) },
      { waitForRedis: false },
    );
    try {
      const d = delivery('pull_request', 'labeled', { label: 'evaluate' });
      const [res, ms] = await timed(() => send(gw.app, d));
      expect(res.statusCode).toBe(503);
      expect(ms).toBeLessThan(TIMEOUT_MS + 600);
      expect(await readyz(gw)).toBe(503);
      await server.start();
      await waitFor(async () => (await readyz(gw)) === 200, { what: 'the gateway to connect' });
      expect((await send(gw.app, d)).statusCode).toBe(202);
    } finally {
      await gw.close();
    }
  });

  it('answers 503 within ENQUEUE_TIMEOUT_MS when Redis hangs', async () => {
    const gw = await startGateway(server.url, { ENQUEUE_TIMEOUT_MS: String(TIMEOUT_MS) });
    const info = execFileSync('redis-cli', ['-p', String(server.port), 'info', 'server'], {
      encoding: 'utf8',
    });
    const pid = Number(/process_id:(\d+)/.exec(info)?.[1]);
    expect(pid).toBeGreaterThan(0);
    const d = delivery('pull_request', 'labeled', { label: 'evaluate' });
    try {
      process.kill(pid, 'SIGSTOP');
      const [res, ms] = await timed(() => send(gw.app, d));
      expect(res.statusCode).toBe(503);
      expect(res.json().reason).toMatch(/no answer within 400 ms|timed out/i);
      expect(ms).toBeGreaterThanOrEqual(TIMEOUT_MS - 50);
      expect(ms).toBeLessThan(TIMEOUT_MS + 600);
      const [scrape, scrapeMs] = await timed(() => gw.internal.inject({ method: 'GET', url: '/metrics' }));
      expect(scrape.statusCode).toBe(200);
      expect(scrapeMs).toBeLessThan(TIMEOUT_MS + 600);
      expect(scrape.body).toMatch(/^evalbot_gateway_redis_up 0$/m);
    } finally {
      process.kill(pid, 'SIGCONT');
    }
    try {
      await waitFor(async () => (await readyz(gw)) === 200, { what: 'Redis to answer again' });
      const again = await send(gw.app, d);
      expect(again.statusCode).toBe(202);
    } finally {
      await gw.close();
    }
  });

  it('closes promptly while Redis is down', async () => {
    const gw = await startGateway(server.url);
    await server.stop();
    try {
      const [, ms] = await timed(() => gw.app.close());
      expect(ms).toBeLessThan(3_000);
    } finally {
      await server.start();
    }
  });
});
