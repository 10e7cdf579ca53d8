import { deliveryHeaders } from '@evalbot/github-sim';
import { describe, expect, it } from 'vitest';
import { delivery, PREVIOUS_SECRET, SECRET, send, useGateway } from './gateway-fixtures.ts';

const gw = useGateway({ WEBHOOK_SECRET_PREVIOUS: PREVIOUS_SECRET });

describe('logs', () => {
  it('carry the delivery id on every line of a delivery and never a secret or signature', async () => {
    const sent = [
      { d: delivery('pull_request', 'labeled', { label: 'evaluate' }), secret: SECRET },
      { d: delivery('ping', undefined), secret: PREVIOUS_SECRET },
      { d: delivery('pull_request', 'closed'), secret: 'an-attacker-guess-1234' },
      { d: delivery('issue_comment', 'created', { comment: { body: '/evaluate' } }), secret: SECRET },
    ];
    const signatures: string[] = [];
    for (const { d, secret } of sent) {
      const headers = await deliveryHeaders(d, secret);
      signatures.push(headers['X-Hub-Signature-256'] ?? '', headers['X-Hub-Signature'] ?? '');
      await send(gw.app, d, { secret });
    }

    const text = gw.logs.join('');
    for (const secret of [SECRET, PREVIOUS_SECRET, 'an-attacker-guess-1234'])
      expect(text).not.toContain(secret);
    for (const signature of signatures) {
      expect(text).not.toContain(signature.replace(/^sha(1|256)=/, ''));
    }
    const lines = gw.logs.map((line) => JSON.parse(line) as Record<string, unknown>);
    for (const { d } of sent) {
      const own = lines.filter((l) => l.deliveryId === d.id);
      // One line per delivery, with its outcome and how long the answer took.
      expect(own).toEqual([
        expect.objectContaining({
          msg: expect.stringMatching(/^delivery (recorded|ping|rejected)$/),
          status: expect.any(Number),
          ms: expect.any(Number),
          remoteAddress: expect.any(String),
        }),
      ]);
    }
    const requestLines = lines.filter((l) => typeof l.msg === 'string' && /request|delivery /.test(l.msg));
    expect(requestLines.every((l) => typeof l.deliveryId === 'string')).toBe(true);
  });
});

describe('GET /metrics', () => {
  it('exposes deliveries by event and outcome, enqueue latency and queue depth', async () => {
    await send(gw.app, delivery('pull_request', 'labeled', { label: 'evaluate' }));
    await send(gw.app, delivery('push', undefined));
    await send(gw.app, delivery('ping', undefined), { secret: 'wrong-secret-000' });
    const res = await gw.internal.inject({ method: 'GET', url: '/metrics' });
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toMatch(/^text\/plain/);
    const metrics = res.body;
    expect(metrics).toContain(
      'evalbot_gateway_webhook_deliveries_total{event="pull_request",outcome="recorded"} 1',
    );
    expect(metrics).toContain('evalbot_gateway_webhook_deliveries_total{event="push",outcome="ignored"} 1');
    expect(metrics).toContain(
      'evalbot_gateway_webhook_deliveries_total{event="unverified",outcome="rejected"} 1',
    );
    expect(metrics).toContain('evalbot_gateway_enqueue_duration_seconds_count{outcome="recorded"} 1');
    // The gateway only records: the delivery waits in the log for the router.
    expect(metrics).toContain('evalbot_queue_jobs{queue="evalbot-delivery",state="waiting"} 1');
    expect(metrics).toContain('evalbot_queue_jobs{queue="evalbot-compare",state="waiting-children"} 0');
    expect(metrics).toContain('evalbot_queue_jobs{queue="evalbot-command",state="waiting"} 0');
    expect(metrics).toMatch(/^evalbot_gateway_redis_up 1$/m);
    expect(metrics).toMatch(/^evalbot_gateway_process_cpu_seconds_total /m);
  });
});

describe('health', () => {
  it('reports alive and ready', async () => {
    expect((await gw.app.inject({ method: 'GET', url: '/healthz' })).json()).toEqual({ status: 'ok' });
    expect((await gw.internal.inject({ method: 'GET', url: '/healthz' })).json()).toEqual({ status: 'ok' });
    expect((await gw.internal.inject({ method: 'GET', url: '/readyz' })).json()).toEqual({ status: 'ready' });
  });
});
