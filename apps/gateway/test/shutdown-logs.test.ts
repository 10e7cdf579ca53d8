import { randomUUID } from 'node:crypto';
import { deliveryHeaders } from '@evalbot/github-sim';
import { freePort, sharedRedis, spawnApp, testPrefix } from '@evalbot/test-utils';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { delivery, WEBHOOK_PATH } from './gateway-fixtures.ts';

// The gateway's process writes its log lines asynchronously (off the request path): what is
// still buffered when it stops must reach its standard output all the same.
describe('the gateway process stopped with SIGTERM', () => {
  let redis: { url: string; close: () => Promise<void> };
  beforeAll(async () => {
    redis = await sharedRedis();
  });
  afterAll(async () => redis?.close());

  it('writes one line per delivery and its last lines before it exits', async () => {
    const port = await freePort();
    const gateway = spawnApp('gateway', {
      REDIS_URL: redis.url,
      BULLMQ_PREFIX: testPrefix(),
      WEBHOOK_SECRET: 'gateway-secret',
      HOST: '127.0.0.1',
      PORT: String(port),
      GATEWAY_METRICS_PORT: '0',
    });
    try {
      await gateway.printed('gateway ready for deliveries');
      const sent = Array.from({ length: 40 }, (_, i) =>
        delivery('pull_request', 'labeled', {
          label: 'evaluate',
          id: randomUUID(),
          pullRequest: { number: 100 + i, headSha: `${i}`.padStart(40, 'a'), baseSha: 'b'.repeat(40) },
        }),
      );
      const statuses = await Promise.all(
        sent.map(async (d) => {
          const response = await fetch(`http://127.0.0.1:${port}${WEBHOOK_PATH}`, {
            method: 'POST',
            headers: await deliveryHeaders(d, 'gateway-secret'),
            body: d.body,
          });
          await response.arrayBuffer();
          return response.status;
        }),
      );
      expect(statuses).toEqual(sent.map(() => 202));
      gateway.child.kill('SIGTERM');
      expect(await gateway.exited).toBe(0);

      const lines = gateway
        .stdout()
        .trim()
        .split('\n')
        .map((line) => JSON.parse(line) as Record<string, unknown>);
      for (const d of sent) {
        expect(lines.filter((l) => l.deliveryId === d.id).map((l) => l.msg)).toEqual(['delivery recorded']);
      }
      // Logged right before process.exit: only the flush on exit writes it.
      expect(lines.at(-1)).toMatchObject({ msg: 'closed', signal: 'SIGTERM' });
    } finally {
      await gateway.stop();
    }
  });
});
