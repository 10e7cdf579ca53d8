import { deliveryHeaders } from '@evalbot/github-sim';
import { describe, expect, it } from 'vitest';
import { delivery, PREVIOUS_SECRET, SECRET, send, useGateway, WEBHOOK_PATH } from './gateway-fixtures.ts';

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

describe('requests to no route', () => {
  const linesOf = (id: string) =>
    gw.logs.map((line) => JSON.parse(line) as Record<string, unknown>).filter((l) => l.deliveryId === id);

  it('log a GitHub delivery to another path as a warning that names WEBHOOK_PATH, without the query', async () => {
    const d = delivery('pull_request', 'labeled', { label: 'evaluate' });
    const res = await gw.app.inject({
      method: 'POST',
      url: '/webhook?token=not-for-logs',
      headers: await deliveryHeaders(d, SECRET),
      payload: d.body,
    });
    expect(res.statusCode).toBe(404);
    expect(linesOf(d.id)).toEqual([
      expect.objectContaining({
        level: 40,
        method: 'POST',
        path: '/webhook',
        status: 404,
        msg: `a GitHub delivery to /webhook, not WEBHOOK_PATH ${WEBHOOK_PATH}: make the App's webhook URL end in ${WEBHOOK_PATH} (or set WEBHOOK_PATH)`,
      }),
    ]);
    expect(gw.logs.join('')).not.toContain('not-for-logs');
  });

  it('log any other request to no route at info', async () => {
    const id = 'probe-1';
    const res = await gw.app.inject({
      method: 'GET',
      url: WEBHOOK_PATH,
      headers: { 'x-github-delivery': id },
    });
    expect(res.statusCode).toBe(404);
    expect(linesOf(id)).toEqual([
      expect.objectContaining({
        level: 30,
        method: 'GET',
        path: WEBHOOK_PATH,
        status: 404,
        msg: 'no such route',
      }),
    ]);
  });

  it('are answered before their body is read: a body that is not JSON still gets 404', async () => {
    const res = await gw.app.inject({
      method: 'POST',
      url: '/webhook',
      headers: { 'content-type': 'application/json' },
      payload: 'not JSON at all',
    });
    // Read, the body would have been refused as JSON (400) before any route was looked for.
    expect(res.statusCode).toBe(404);
    expect(res.headers.connection).toBe('close');
    expect(res.json()).toEqual({
      message: 'Route POST:/webhook not found',
      error: 'Not Found',
      statusCode: 404,
    });
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
