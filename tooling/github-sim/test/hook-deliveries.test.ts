import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { buildDelivery, type GitHubSim, startGitHubSim } from '../src/index.ts';
import { goodClaims, installationToken, signJwt } from './jwt-helpers.ts';

let sim: GitHubSim;
let receiver: Server;
/** What the receiver answers next; each request received is kept. */
let answerStatus = 202;
let received: { delivery: string; signature: string }[] = [];

beforeEach(async () => {
  sim = await startGitHubSim();
  sim.createInstallation({ id: 7, account: 'octo-org' });
  received = [];
  answerStatus = 202;
  receiver = createServer((req, res) => {
    received.push({
      delivery: String(req.headers['x-github-delivery']),
      signature: String(req.headers['x-hub-signature-256']),
    });
    req.resume();
    req.on('end', () => res.writeHead(answerStatus).end('{}'));
  });
  await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
  sim.setWebhookTarget({ url: `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hook` });
});
afterEach(async () => {
  receiver.closeAllConnections();
  await new Promise((resolve) => receiver.close(resolve));
  await sim.close();
});

const appAuth = () => `Bearer ${signJwt(goodClaims(sim.appId), sim.privateKey ?? '')}`;

async function api(method: string, path: string, auth = appAuth()) {
  const res = await fetch(`${sim.url}${path}`, { method, headers: { authorization: auth } });
  return { status: res.status, link: res.headers.get('link'), body: (await res.json()) as unknown };
}

const labeled = () =>
  buildDelivery({
    event: 'pull_request',
    action: 'labeled',
    label: 'evaluate',
    installationId: 7,
    pullRequest: { number: 3, headSha: 'a'.repeat(40), baseSha: 'b'.repeat(40) },
  });

describe('GET /app/hook/deliveries', () => {
  it("lists every attempt newest first in GitHub's shape, failed ones included", async () => {
    const ok = labeled();
    const refused = labeled();
    await sim.deliver(ok);
    answerStatus = 503;
    await sim.deliver(refused);
    const { status, body } = await api('GET', '/app/hook/deliveries');
    expect(status).toBe(200);
    expect(body).toEqual([
      {
        id: expect.any(Number),
        guid: refused.id,
        delivered_at: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/),
        redelivery: false,
        duration: expect.any(Number),
        status: 'Invalid HTTP Response: 503',
        status_code: 503,
        event: 'pull_request',
        action: 'labeled',
        installation_id: 7,
        repository_id: expect.any(Number),
        throttled_at: null,
      },
      expect.objectContaining({ guid: ok.id, status: 'OK', status_code: 202 }),
    ]);
  });

  it('records a delivery the receiver could not be reached for', async () => {
    receiver.closeAllConnections();
    await new Promise((resolve) => receiver.close(resolve));
    const d = labeled();
    const attempt = await sim.deliver(d);
    expect(attempt).toMatchObject({ guid: d.id, statusCode: 0, status: 'failed to connect to host' });
    const { body } = await api('GET', '/app/hook/deliveries');
    expect(body).toEqual([expect.objectContaining({ guid: d.id, status_code: 0 })]);
    // Keep afterEach's close harmless.
    receiver = createServer();
    await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
  });

  it('pages with per_page and the cursor named in the Link header', async () => {
    const sent = [labeled(), labeled(), labeled()];
    for (const d of sent) await sim.deliver(d);
    const first = await api('GET', '/app/hook/deliveries?per_page=2');
    expect((first.body as { guid: string }[]).map((d) => d.guid)).toEqual([sent[2]?.id, sent[1]?.id]);
    const next = /<([^>]+)>; rel="next"/.exec(first.link ?? '')?.[1];
    expect(next).toMatch(/cursor=/);
    const second = await fetch(next ?? '', { headers: { authorization: appAuth() } });
    expect(second.headers.get('link')).toBeNull();
    expect(((await second.json()) as { guid: string }[]).map((d) => d.guid)).toEqual([sent[0]?.id]);
  });

  it('answers only the App itself', async () => {
    const token = await installationToken(sim, 7);
    expect((await api('GET', '/app/hook/deliveries', `token ${token}`)).status).toBe(401);
    expect((await api('GET', '/app/hook/deliveries', '')).status).toBe(401);
  });
});

describe('POST /app/hook/deliveries/{delivery_id}/attempts', () => {
  it('sends the same delivery again, signed, and lists it as a redelivery', async () => {
    answerStatus = 500;
    const d = labeled();
    const attempt = await sim.deliver(d);
    answerStatus = 202;
    const res = await api('POST', `/app/hook/deliveries/${attempt.id}/attempts`);
    expect(res.status).toBe(202);
    await sim.redeliveriesSettled();
    expect(received.map((r) => r.delivery)).toEqual([d.id, d.id]);
    expect(received[1]?.signature).toBe(received[0]?.signature);
    const { body } = await api('GET', '/app/hook/deliveries');
    expect(body).toEqual([
      expect.objectContaining({ guid: d.id, redelivery: true, status: 'OK', status_code: 202 }),
      expect.objectContaining({ guid: d.id, redelivery: false, status_code: 500 }),
    ]);
  });

  it('answers 404 for a delivery it does not have', async () => {
    expect((await api('POST', '/app/hook/deliveries/123/attempts')).status).toBe(404);
  });
});
