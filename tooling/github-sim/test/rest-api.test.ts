import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type GitHubSim, startGitHubSim } from '../src/index.ts';
import { installationToken } from './jwt-helpers.ts';

let sim: GitHubSim;
let token: string;
let otherToken: string;
let headSha: string;

beforeAll(async () => {
  sim = await startGitHubSim({ slug: 'evalbot' });
  sim.createInstallation({ id: 1, account: 'octo' });
  sim.createInstallation({ id: 2, account: 'acme' });
  await sim.createRepo({ owner: 'octo', name: 'model' });
  await sim.createRepo({ owner: 'acme', name: 'secret' });
  ({ headSha } = await sim.openPullRequest({
    owner: 'octo',
    repo: 'model',
    head: 'feature',
    files: { 'a.txt': 'a\n' },
    user: 'alice',
    labels: ['evaluate'],
  }));
  token = await installationToken(sim, 1);
  otherToken = await installationToken(sim, 2);
});
afterAll(() => sim.close());

async function api(method: string, path: string, opts: { body?: unknown; auth?: string | null } = {}) {
  const auth = opts.auth === undefined ? `token ${token}` : opts.auth;
  const res = await fetch(`${sim.url}${path}`, {
    method,
    headers: {
      accept: 'application/vnd.github+json',
      ...(auth ? { authorization: auth } : {}),
      ...(opts.body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    ...(opts.body === undefined ? {} : { body: JSON.stringify(opts.body) }),
  });
  const text = await res.text();
  return {
    status: res.status,
    headers: res.headers,
    body: text ? (JSON.parse(text) as Record<string, unknown>) : {},
  };
}

describe('installation tokens', () => {
  it('refuses an unknown token with 401 Bad credentials', async () => {
    const res = await api('GET', '/repos/octo/model', {
      auth: 'token ghs_notarealtoken000000000000000000000000',
    });
    expect(res.status).toBe(401);
    expect(res.body.message).toBe('Bad credentials');
  });

  it('refuses an expired token with 401 Bad credentials', async () => {
    const stale = await installationToken(sim, 1);
    sim.expireInstallationTokens();
    expect((await api('GET', '/repos/octo/model', { auth: `Bearer ${stale}` })).status).toBe(401);
    token = await installationToken(sim, 1);
    otherToken = await installationToken(sim, 2);
  });

  it('hides repositories of other installations behind 404', async () => {
    expect((await api('GET', '/repos/acme/secret')).status).toBe(404);
    expect((await api('GET', '/repos/acme/secret', { auth: `token ${otherToken}` })).status).toBe(200);
  });

  it('asks for authentication when there is none', async () => {
    const res = await api('GET', '/repos/octo/model', { auth: null });
    expect(res.status).toBe(404);
    const write = await api('POST', '/repos/octo/model/issues/1/comments', {
      auth: null,
      body: { body: 'x' },
    });
    expect(write.status).toBe(401);
    expect(write.body.message).toBe('Requires authentication');
  });

  it('sends GitHub’s rate-limit and request-id headers', async () => {
    const res = await api('GET', '/repos/octo/model');
    expect(res.headers.get('x-ratelimit-limit')).toBe('5000');
    expect(Number(res.headers.get('x-ratelimit-remaining'))).toBeLessThan(5000);
    expect(res.headers.get('x-ratelimit-resource')).toBe('core');
    expect(res.headers.get('x-github-request-id')).toMatch(/^[0-9A-F:]+$/);
  });
});

describe('pull requests and repositories', () => {
  it('answers GET pulls with head and base shas, refs, labels and author', async () => {
    const res = await api('GET', '/repos/octo/model/pulls/1');
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({
      number: 1,
      state: 'open',
      user: { login: 'alice', type: 'User' },
      labels: [{ name: 'evaluate' }],
      head: { sha: headSha, ref: 'feature', repo: { full_name: 'octo/model' } },
      base: { ref: 'main', repo: { full_name: 'octo/model', private: true } },
      html_url: `${sim.gitUrl}/octo/model/pull/1`,
    });
  });

  it('gives a fork PR a head repository other than the base', async () => {
    await sim.createRepo({ owner: 'mallory', name: 'model', forkOf: { owner: 'octo', name: 'model' } });
    const pr = await sim.openPullRequest({
      owner: 'octo',
      repo: 'model',
      headOwner: 'mallory',
      head: 'evil',
      files: { 'x.py': '1\n' },
    });
    const res = await api('GET', `/repos/octo/model/pulls/${pr.number}`);
    expect(res.body).toMatchObject({
      head: {
        sha: pr.headSha,
        ref: 'evil',
        label: 'mallory:evil',
        repo: { full_name: 'mallory/model', fork: true },
      },
      base: { repo: { full_name: 'octo/model' } },
    });
  });

  it('reports collaborator permissions with GitHub’s legacy levels', async () => {
    sim.setCollaborator({ owner: 'octo', repo: 'model', login: 'maya', role: 'maintain' });
    sim.setCollaborator({ owner: 'octo', repo: 'model', login: 'tom', role: 'triage' });
    const permission = async (user: string) =>
      (await api('GET', `/repos/octo/model/collaborators/${user}/permission`)).body;
    expect(await permission('maya')).toMatchObject({ permission: 'write', role_name: 'maintain' });
    expect(await permission('tom')).toMatchObject({ permission: 'read', role_name: 'triage' });
    expect(await permission('octo')).toMatchObject({ permission: 'admin' });
    expect(await permission('stranger')).toMatchObject({ permission: 'none' });
  });
});

describe('comments, reactions and labels', () => {
  it('paginates comments with per_page, page and a Link header', async () => {
    for (let i = 0; i < 35; i++)
      sim.addIssueComment({ owner: 'octo', repo: 'model', number: 1, body: `c${i}`, user: 'bob' });
    const first = await api('GET', '/repos/octo/model/issues/1/comments');
    expect(first.body).toHaveLength(30);
    expect(first.headers.get('link')).toContain('rel="next"');
    expect(first.headers.get('link')).toContain(
      `${sim.url}/repos/octo/model/issues/1/comments?per_page=30&page=2`,
    );
    const second = await api('GET', '/repos/octo/model/issues/1/comments?per_page=30&page=2');
    expect(second.body).toHaveLength(5);
    expect(second.headers.get('link')).toContain('rel="prev"');
    expect(second.headers.get('link')).not.toContain('rel="next"');
    const big = await api('GET', '/repos/octo/model/issues/1/comments?per_page=500');
    expect(big.body).toHaveLength(35);
  });

  it('posts comments as <slug>[bot], edits them, and refuses bodies over 65536 characters', async () => {
    const created = await api('POST', '/repos/octo/model/issues/1/comments', { body: { body: 'hi' } });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ body: 'hi', user: { login: 'evalbot[bot]', type: 'Bot' } });
    const id = Number(created.body.id);
    const edited = await api('PATCH', `/repos/octo/model/issues/comments/${id}`, {
      body: { body: 'edited' },
    });
    expect(edited.body).toMatchObject({ id, body: 'edited' });
    const tooLong = await api('POST', '/repos/octo/model/issues/1/comments', {
      body: { body: 'x'.repeat(65_537) },
    });
    expect(tooLong.status).toBe(422);
    expect(tooLong.body).toMatchObject({
      message: 'Validation Failed',
      errors: [
        {
          resource: 'IssueComment',
          field: 'data',
          message: 'Body is too long (maximum is 65536 characters)',
        },
      ],
    });
  });

  it('adds a reaction once and removes labels, answering 404 for a label that is not there', async () => {
    const comment = sim.addIssueComment({
      owner: 'octo',
      repo: 'model',
      number: 1,
      body: '/evaluate',
      user: 'bob',
    });
    const react = () =>
      api('POST', `/repos/octo/model/issues/comments/${comment.id}/reactions`, { body: { content: 'eyes' } });
    expect((await react()).status).toBe(201);
    expect((await react()).status).toBe(200);
    expect(sim.reactions(comment.id)).toHaveLength(1);

    const removed = await api('DELETE', '/repos/octo/model/issues/1/labels/Evaluate');
    expect(removed.status).toBe(200);
    expect(sim.labels('octo', 'model', 1)).toEqual([]);
    const again = await api('DELETE', '/repos/octo/model/issues/1/labels/evaluate');
    expect(again.status).toBe(404);
    expect(again.body.message).toBe('Label does not exist');
  });
});

describe('check runs', () => {
  it('creates and completes a check run', async () => {
    const created = await api('POST', '/repos/octo/model/check-runs', {
      body: { name: 'evalbot', head_sha: headSha, status: 'in_progress' },
    });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({
      name: 'evalbot',
      head_sha: headSha,
      status: 'in_progress',
      conclusion: null,
    });
    const done = await api('PATCH', `/repos/octo/model/check-runs/${created.body.id}`, {
      body: { conclusion: 'success', output: { title: 'Better', summary: 'accuracy +1%' } },
    });
    expect(done.body).toMatchObject({
      status: 'completed',
      conclusion: 'success',
      output: { title: 'Better' },
    });
    expect(sim.checkRuns('octo', 'model', headSha).at(-1)).toMatchObject({ conclusion: 'success' });
  });

  it('validates like GitHub: conclusion needed to complete, summary at most 65535, a known commit', async () => {
    const noConclusion = await api('POST', '/repos/octo/model/check-runs', {
      body: { name: 'evalbot', head_sha: headSha, status: 'completed' },
    });
    expect(noConclusion.status).toBe(422);
    expect(noConclusion.body.message).toContain('"conclusion" wasn\'t supplied.');
    const longSummary = await api('POST', '/repos/octo/model/check-runs', {
      body: { name: 'evalbot', head_sha: headSha, output: { title: 't', summary: 's'.repeat(65_536) } },
    });
    expect(longSummary.status).toBe(422);
    expect(longSummary.body.message).toContain('65535');
    const unknownSha = await api('POST', '/repos/octo/model/check-runs', {
      body: { name: 'evalbot', head_sha: 'f'.repeat(40) },
    });
    expect(unknownSha.status).toBe(422);
    expect(unknownSha.body.message).toBe(`No commit found for SHA: ${'f'.repeat(40)}`);
  });
});

describe('faults and the request log', () => {
  it('fails the next matching calls as asked, then answers normally', async () => {
    const fault = sim.injectFault({ route: 'GET /repos/:owner/:repo', kind: 'error', status: 502, times: 2 });
    expect((await api('GET', '/repos/octo/model')).status).toBe(502);
    expect((await api('GET', '/repos/octo/model')).status).toBe(502);
    expect((await api('GET', '/repos/octo/model')).status).toBe(200);
    expect(fault.hits).toBe(2);
  });

  it('answers secondary rate limits with retry-after, and primary ones with remaining 0', async () => {
    sim.injectFault({
      route: 'GET /repos/:owner/:repo',
      kind: 'secondary-rate-limit',
      status: 429,
      retryAfterSeconds: 7,
    });
    const secondary = await api('GET', '/repos/octo/model');
    expect(secondary.status).toBe(429);
    expect(secondary.headers.get('retry-after')).toBe('7');
    expect(secondary.body.message).toMatch(/^You have exceeded a secondary rate limit/);
    sim.injectFault({ route: '/repos/:owner/:repo', kind: 'rate-limit' });
    const primary = await api('GET', '/repos/octo/model');
    expect(primary.status).toBe(403);
    expect(primary.headers.get('x-ratelimit-remaining')).toBe('0');
  });

  it('records method, path, status and headers without the credential', async () => {
    sim.clearRequests();
    await api('GET', '/repos/octo/model/pulls/1');
    const [entry] = sim.requestsMatching('GET /repos/:owner/:repo/pulls/:number');
    expect(entry).toMatchObject({
      method: 'GET',
      path: '/repos/octo/model/pulls/1',
      status: 200,
      auth: 'token',
    });
    expect(entry?.headers.authorization).toBeUndefined();
    expect(JSON.stringify(sim.requests)).not.toContain(token);
  });
});
