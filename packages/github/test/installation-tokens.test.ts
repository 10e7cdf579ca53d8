import { afterEach, describe, expect, it } from 'vitest';
import { cloneScope, createGitHubApp, getPullRequest } from '../src/index.ts';
import { captureLogger, mintsByInstallation, type Stage, startStage } from './fixtures.ts';

let stage: Stage | undefined;
afterEach(async () => {
  await stage?.close();
  stage = undefined;
});

describe('installation tokens', () => {
  it('mints one token per installation and reuses it for many calls across clients', async () => {
    stage = await startStage();
    const { sim, app } = stage;
    sim.createInstallation({ id: 2, account: 'acme' });
    await sim.createRepo({ owner: 'acme', name: 'model' });
    await sim.openPullRequest({ owner: 'acme', repo: 'model', head: 'x', files: { 'a.txt': 'a\n' } });

    const calls = [];
    for (let i = 0; i < 6; i++) {
      // A fresh client per call, as the worker makes one per job.
      calls.push(getPullRequest(app.installationOctokit(1), { owner: 'octo', repo: 'model', pullNumber: 1 }));
      calls.push(getPullRequest(app.installationOctokit(2), { owner: 'acme', repo: 'model', pullNumber: 1 }));
    }
    const prs = await Promise.all(calls);
    expect(prs.map((p) => p.head.repoFullName)).toEqual(Array(6).fill(['octo/model', 'acme/model']).flat());
    await getPullRequest(app.installationOctokit(1), { owner: 'octo', repo: 'model', pullNumber: 1 });

    expect(mintsByInstallation(sim)).toEqual({ '1': 1, '2': 1 });
    const [one, two] = [await app.installationToken(1), await app.installationToken(2)];
    expect(one).toMatch(/^ghs_/);
    expect(one).not.toBe(two);
    expect(mintsByInstallation(sim)).toEqual({ '1': 1, '2': 1 });
    expect(sim.requestsMatching('GET /repos/:o/:r/pulls/:n')).toHaveLength(13);
  });

  it('narrows a scoped client to its repository and permissions, with one token per scope', async () => {
    stage = await startStage();
    const { sim, app, pr } = stage;
    await sim.createRepo({ owner: 'octo', name: 'other' });
    const commentScope = { repositories: ['model'], permissions: { issues: 'write' } } as const;
    const commenter = app.installationOctokit(1, undefined, commentScope);
    await commenter.rest.issues.createComment({ owner: 'octo', repo: 'model', issue_number: 1, body: 'hi' });
    await app
      .installationOctokit(1, undefined, commentScope)
      .rest.issues.createComment({ owner: 'octo', repo: 'model', issue_number: 1, body: 'again' });
    expect(sim.comments('octo', 'model', 1).map((c) => c.body)).toEqual(['hi', 'again']);

    const refused = await commenter.rest.checks
      .create({ owner: 'octo', repo: 'model', name: 'x', head_sha: pr.headSha })
      .catch((error: { status: number; message: string }) => error);
    expect(refused).toMatchObject({
      status: 403,
      message: expect.stringContaining('Resource not accessible'),
    });
    const elsewhere = await commenter.rest.repos
      .get({ owner: 'octo', repo: 'other' })
      .catch((error: { status: number }) => error);
    expect(elsewhere).toMatchObject({ status: 404 });

    const cloneToken = await app.installationToken(1, cloneScope('model'));
    expect(sim.state.tokens.get(cloneToken)?.permissions).toEqual({ contents: 'read' });
    // Two scopes, two tokens; the same scope again is served from the cache.
    expect(await app.installationToken(1, cloneScope('model'))).toBe(cloneToken);
    expect(mintsByInstallation(sim)).toEqual({ '1': 2 });
    const minted = sim.requestsMatching('POST /app/installations/:id/access_tokens');
    expect(minted.map((r) => r.status)).toEqual([201, 201]);
  });

  it('refreshes the token before it expires, so a job running over an hour can still post', async () => {
    let now = Date.now();
    const clock = () => now;
    stage = await startStage({ sim: { clock }, app: { clock, tokenRefreshMarginMs: 5 * 60_000 } });
    const { sim, app, pr } = stage;
    const read = () =>
      getPullRequest(app.installationOctokit(1), { owner: 'octo', repo: 'model', pullNumber: 1 });

    await read();
    const first = await app.installationToken(1);
    now += 30 * 60_000;
    await read();
    expect(mintsByInstallation(sim)).toEqual({ '1': 1 });

    // 56 minutes in: 4 minutes left, inside the 5-minute margin.
    now += 26 * 60_000;
    await read();
    expect(mintsByInstallation(sim)).toEqual({ '1': 2 });
    const second = await app.installationToken(1);
    expect(second).not.toBe(first);

    // 70 minutes in: the first token is dead, the job still posts with the second.
    now += 14 * 60_000;
    const stale = await fetch(`${sim.url}/repos/octo/model`, {
      headers: { authorization: `token ${first}` },
    });
    expect(stale.status).toBe(401);
    const posted = await app.installationOctokit(1).rest.issues.createComment({
      owner: pr.owner,
      repo: pr.repo,
      issue_number: pr.number,
      body: 'still here',
    });
    expect(posted.status).toBe(201);
    expect(mintsByInstallation(sim)).toEqual({ '1': 2 });
  });

  it('reads the bot login from GET /app once', async () => {
    stage = await startStage({ sim: { slug: 'evalbot-ci' } });
    expect(await stage.app.botLogin()).toBe('evalbot-ci[bot]');
    expect(await stage.app.botLogin()).toBe('evalbot-ci[bot]');
    expect(stage.sim.requestsMatching('GET /app')).toHaveLength(1);
  });

  it('refuses to start with a private key that is not an RSA key, without echoing it', () => {
    const bad = '-----BEGIN RSA PRIVATE KEY-----\nnot-a-key\n-----END RSA PRIVATE KEY-----';
    expect(() => createGitHubApp({ appId: 1, privateKey: bad, logger: captureLogger().logger })).toThrow(
      /not a valid RSA private key.*PRIVATE_KEY_PATH/s,
    );
    try {
      createGitHubApp({ appId: 1, privateKey: bad, logger: captureLogger().logger });
    } catch (error) {
      expect((error as Error).message).not.toContain('not-a-key');
    }
  });
});
