import { describe, expect, it } from 'vitest';
import {
  delivery,
  HEAD,
  jobCount,
  PREVIOUS_SECRET,
  SECRET,
  send,
  startGateway,
  useGateway,
  WEBHOOK_PATH,
} from './gateway-fixtures.ts';

const gw = useGateway(
  { WEBHOOK_SECRET_PREVIOUS: PREVIOUS_SECRET },
  {
    // Whatever was refused, nothing reached the queues.
    beforeClose: async ({ producer }) => expect(await jobCount(producer)).toBe(0),
  },
);

const labeled = () => delivery('pull_request', 'labeled', { label: 'evaluate' });

describe('refused requests', () => {
  it.each([
    [['X-GitHub-Event'], 'x-github-event'],
    [['X-Hub-Signature-256'], 'x-hub-signature-256'],
    [['X-GitHub-Delivery'], 'x-github-delivery'],
    [['X-GitHub-Event', 'X-GitHub-Delivery'], 'x-github-event, x-github-delivery'],
  ])('answers 400 naming the missing headers %j', async (missing, named) => {
    const headers = Object.fromEntries(missing.map((h) => [h, undefined]));
    const res = await send(gw.app, labeled(), { headers });
    expect(res.statusCode).toBe(400);
    expect(res.json()).toEqual({ status: 'rejected', reason: `Required headers missing: ${named}` });
  });

  it('answers 401 to a signature made with an unknown secret', async () => {
    const res = await send(gw.app, labeled(), { secret: 'not-the-secret' });
    expect(res.statusCode).toBe(401);
    expect(res.json().reason).toMatch(/X-Hub-Signature-256 does not match/);
  });

  it('answers 401 to a body changed after signing', async () => {
    const d = labeled();
    const res = await send(gw.app, d, { body: d.body.replace('"labeled"', '"closed"') });
    expect(res.statusCode).toBe(401);
  });

  it('answers 401 to a malformed signature header', async () => {
    const res = await send(gw.app, labeled(), { headers: { 'X-Hub-Signature-256': 'sha1=abc' } });
    expect(res.statusCode).toBe(401);
  });

  it('answers 400 to a signed body that is not JSON', async () => {
    const d = { ...labeled(), body: '{"action": "labeled",' };
    const res = await send(gw.app, d);
    expect(res.statusCode).toBe(400);
    expect(res.json().reason).toMatch(/^The body is not JSON/);
  });

  it('answers 400 to a signed payload that lacks what its event has', async () => {
    const d = { ...labeled(), body: JSON.stringify({ action: 'labeled', label: { name: 'evaluate' } }) };
    const res = await send(gw.app, d);
    expect(res.statusCode).toBe(400);
    expect(res.json().reason).toMatch(/not a pull_request payload: number: .*pull_request: /);
  });

  it('answers 400 to a signed head SHA that is not a SHA', async () => {
    const d = labeled();
    const res = await send(gw.app, {
      ...d,
      body: d.body.replaceAll(HEAD, 'z'.repeat(40)),
    });
    expect(res.statusCode).toBe(400);
    expect(res.json().reason).toMatch(/headSha: must be a 40-character commit SHA/);
  });

  it('answers 400 to an empty body', async () => {
    const res = await send(gw.app, labeled(), { body: '' });
    expect(res.json().reason).toMatch(/body is empty/);
    expect(res.statusCode).toBe(400);
  });

  it.each([
    ['text/plain', /Unsupported Content-Type "text\/plain": send the payload as application\/json$/],
    ['application/x-www-form-urlencoded', /set the webhook content type to application\/json/],
  ])('answers 415 to Content-Type %s', async (contentType, reason) => {
    const d = labeled();
    const res = await send(gw.app, d, {
      headers: { 'Content-Type': contentType },
      body: contentType.includes('form') ? `payload=${encodeURIComponent(d.body)}` : d.body,
    });
    expect(res.statusCode).toBe(415);
    expect(res.json()).toEqual({ status: 'rejected', reason: expect.stringMatching(reason) });
  });

  it('accepts application/json with a charset', async () => {
    const res = await send(gw.app, delivery('ping', undefined), {
      headers: { 'Content-Type': 'application/json; charset=utf-8' },
    });
    expect(res.statusCode).toBe(200);
  });

  it('answers 413 to a body over 25 MB', async () => {
    const huge = Buffer.alloc(25 * 1024 * 1024 + 10, ' ');
    const res = await send(gw.app, labeled(), { body: huge });
    expect(res.statusCode).toBe(413);
    expect(res.json().reason).toMatch(/25 MB/);
  });

  it('does not answer other methods on the webhook path', async () => {
    const res = await gw.app.inject({ method: 'GET', url: WEBHOOK_PATH });
    expect(res.statusCode).toBe(404);
  });
});

describe('secret rotation', () => {
  it('accepts deliveries signed with the previous secret while it is configured', async () => {
    const res = await send(gw.app, delivery('ping', undefined), { secret: PREVIOUS_SECRET });
    expect(res.statusCode).toBe(200);
    expect((await send(gw.app, delivery('ping', undefined), { secret: SECRET })).statusCode).toBe(200);
  });

  it('refuses the previous secret once it is no longer configured', async () => {
    const only = await startGateway(gw.redisUrl);
    try {
      expect(
        (await send(only.app, delivery('ping', undefined), { secret: PREVIOUS_SECRET })).statusCode,
      ).toBe(401);
    } finally {
      await only.close();
    }
  });
});
