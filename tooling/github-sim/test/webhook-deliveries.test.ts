import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { verify } from '@octokit/webhooks-methods';
import { describe, expect, it } from 'vitest';
import { buildDelivery, deliveryHeaders, type JsonObject, sendDelivery, signDelivery } from '../src/index.ts';

const HEAD = '1'.repeat(40);
const BASE = '2'.repeat(40);
const api = 'http://127.0.0.1:4010/api/v3';
const web = 'http://127.0.0.1:4010';
const at = (value: unknown, ...path: string[]): unknown =>
  path.reduce<unknown>((node, key) => (node as JsonObject | undefined)?.[key], value);

function stringsIn(value: unknown, out: string[] = []): string[] {
  if (typeof value === 'string') out.push(value);
  else if (Array.isArray(value)) for (const v of value) stringsIn(v, out);
  else if (value && typeof value === 'object') for (const v of Object.values(value)) stringsIn(v, out);
  return out;
}

describe('buildDelivery', () => {
  it('rewrites a labeled pull_request example to the given repo, PR, installation and hosts', () => {
    const delivery = buildDelivery({
      event: 'pull_request',
      action: 'labeled',
      repo: { owner: 'acme', name: 'mnist' },
      pullRequest: {
        number: 12,
        headSha: HEAD,
        baseSha: BASE,
        headRef: 'wider',
        author: 'alice',
        labels: ['bug'],
      },
      installationId: 77,
      label: 'Evaluate',
      sender: 'bob',
      apiUrl: api,
      webUrl: web,
    });
    const p = delivery.payload;
    expect(delivery.event).toBe('pull_request');
    expect(delivery.id).toMatch(/^[0-9a-f-]{36}$/);
    expect(JSON.parse(delivery.body)).toEqual(p);
    expect(p.action).toBe('labeled');
    expect(p.number).toBe(12);
    expect(at(p, 'installation', 'id')).toBe(77);
    expect(at(p, 'label', 'name')).toBe('Evaluate');
    expect(at(p, 'sender', 'login')).toBe('bob');
    expect(at(p, 'repository', 'full_name')).toBe('acme/mnist');
    expect(at(p, 'repository', 'clone_url')).toBe(`${web}/acme/mnist.git`);
    expect(at(p, 'repository', 'html_url')).toBe(`${web}/acme/mnist`);
    expect(at(p, 'repository', 'url')).toBe(`${api}/repos/acme/mnist`);
    expect(at(p, 'pull_request', 'html_url')).toBe(`${web}/acme/mnist/pull/12`);
    expect(at(p, 'pull_request', 'user', 'login')).toBe('alice');
    expect(at(p, 'pull_request', 'head')).toMatchObject({ sha: HEAD, ref: 'wider' });
    expect(at(p, 'pull_request', 'base')).toMatchObject({ sha: BASE, ref: 'main' });
    expect(at(p, 'pull_request', 'head', 'repo', 'full_name')).toBe('acme/mnist');
    expect((at(p, 'pull_request', 'labels') as JsonObject[]).map((l) => l.name)).toEqual(['bug', 'Evaluate']);
    const urls = stringsIn(p).filter((s) => /^(https?|git):\/\//.test(s));
    expect(urls.length).toBeGreaterThan(20);
    expect(urls.filter((u) => !u.startsWith(web) && !u.startsWith('git://127.0.0.1:4010'))).toEqual(
      // Avatars and gravatars stay on GitHub's CDN, as they do for GHES-hosted repos.
      urls.filter((u) => u.includes('avatars') || u.includes('gravatar')),
    );
  });

  it('marks a head from another repository as a fork', () => {
    const delivery = buildDelivery({
      event: 'pull_request',
      action: 'synchronize',
      pullRequest: {
        number: 3,
        headSha: HEAD,
        baseSha: BASE,
        headRepo: { owner: 'mallory', name: 'hello-ml' },
      },
    });
    expect(at(delivery.payload, 'pull_request', 'head', 'repo')).toMatchObject({
      full_name: 'mallory/hello-ml',
      fork: true,
    });
    expect(delivery.payload.after).toBe(HEAD);
  });

  it('builds a PR comment with its body and the issue marked as a pull request', () => {
    const delivery = buildDelivery({
      event: 'issue_comment',
      action: 'created',
      pullRequest: { number: 5, headSha: HEAD, baseSha: BASE },
      comment: { body: '/evaluate please', id: 901, author: 'carol' },
    });
    expect(at(delivery.payload, 'issue', 'number')).toBe(5);
    expect(at(delivery.payload, 'issue', 'pull_request', 'url')).toBe(
      'https://api.github.com/repos/octo-org/hello-ml/pulls/5',
    );
    expect(at(delivery.payload, 'comment')).toMatchObject({ id: 901, body: '/evaluate please' });
    expect(at(delivery.payload, 'sender', 'login')).toBe('carol');
  });

  it('can leave the installation out, as a repository webhook would', () => {
    const delivery = buildDelivery({ event: 'ping', installationId: null });
    expect('installation' in delivery.payload).toBe(false);
    expect(typeof delivery.payload.zen).toBe('string');
  });

  it('names the actions an event has when asked for one it lacks', () => {
    expect(() => buildDelivery({ event: 'pull_request', action: 'exploded' })).toThrow(/labeled/);
  });
});

describe('signing and sending', () => {
  it('signs the body so that octokit verifies it, and sends GitHub headers', async () => {
    const secret = 'delivery-test-secret';
    const delivery = buildDelivery({ event: 'ping' });
    const signatures = await signDelivery(delivery.body, secret);
    expect(await verify(secret, delivery.body, signatures['X-Hub-Signature-256'])).toBe(true);
    expect(signatures['X-Hub-Signature']).toMatch(/^sha1=[0-9a-f]{40}$/);

    const received: { headers: Record<string, unknown>; body: string }[] = [];
    const server = createServer((req, res) => {
      let body = '';
      req.on('data', (chunk) => {
        body += chunk;
      });
      req.on('end', () => {
        received.push({ headers: req.headers, body });
        res.writeHead(202, { 'content-type': 'application/json' }).end('{"status":"ok"}');
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const { port } = server.address() as AddressInfo;
      const response = await sendDelivery(`http://127.0.0.1:${port}/hook`, delivery, secret);
      expect(response).toEqual({ status: 202, body: '{"status":"ok"}' });
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
    const headers = await deliveryHeaders(delivery, secret);
    expect(received[0]?.body).toBe(delivery.body);
    expect(received[0]?.headers).toMatchObject({
      'content-type': 'application/json',
      'x-github-event': 'ping',
      'x-github-delivery': delivery.id,
      'x-github-hook-id': headers['X-GitHub-Hook-ID'],
      'x-github-hook-installation-target-type': 'integration',
      'x-hub-signature-256': signatures['X-Hub-Signature-256'],
      'user-agent': expect.stringMatching(/^GitHub-Hookshot\//),
    });
  });
});
