import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { APP_PERMISSIONS, type GitHubSim, startGitHubSim } from '../src/index.ts';
import { runGit, tokenHeaderEnv } from './git-helpers.ts';
import { goodClaims, installationToken, signJwt } from './jwt-helpers.ts';

// Installation tokens narrowed to some repositories and permissions
// (POST /app/installations/{id}/access_tokens with `repositories` and `permissions`), honoured
// as GitHub does: another repository is not found (404), a missing permission is
// "Resource not accessible by integration" (403), asking for more than the App has is 422.

let sim: GitHubSim;
let work: string;

beforeAll(async () => {
  sim = await startGitHubSim();
  sim.createInstallation({ id: 5, account: 'octo' });
  await sim.createRepo({ owner: 'octo', name: 'model', files: { 'demo.py': 'print(1)\n' } });
  await sim.createRepo({ owner: 'octo', name: 'other', files: { 'demo.py': 'print(2)\n' } });
  await sim.openPullRequest({
    owner: 'octo',
    repo: 'model',
    head: 'feature',
    files: { 'demo.py': 'print(3)\n' },
  });
  work = await mkdtemp(join(tmpdir(), 'github-sim-scoped-'));
});
afterAll(async () => {
  await sim.close();
  await rm(work, { recursive: true, force: true });
});

function api(token: string, method: string, path: string, body?: unknown) {
  return fetch(`${sim.url}${path}`, {
    method,
    headers: { authorization: `token ${token}`, accept: 'application/vnd.github+json' },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
}

describe('a scoped installation token', () => {
  it('with contents: read on one repository clones it, and nothing else', async () => {
    const token = await installationToken(sim, 5, {
      repositories: ['model'],
      permissions: { contents: 'read' },
    });
    const env = tokenHeaderEnv(token);
    expect((await runGit(['clone', `${sim.gitUrl}/octo/model.git`, 'model'], { cwd: work, env })).code).toBe(
      0,
    );
    const other = await runGit(['clone', `${sim.gitUrl}/octo/other.git`, 'other'], { cwd: work, env });
    expect(other.code).not.toBe(0);
    expect(other.stderr).toMatch(/401|Authentication failed|could not read Username/);
    const refused = sim.requests.filter((r) => r.surface === 'git' && r.path.includes('/other.git/'));
    expect(refused.map((r) => r.status)).toEqual([401]);

    expect((await api(token, 'GET', '/repos/octo/model')).status).toBe(200);
    expect((await api(token, 'GET', '/repos/octo/other')).status).toBe(404);
    const post = await api(token, 'POST', '/repos/octo/model/issues/1/comments', { body: 'hi' });
    expect(post.status).toBe(403);
    expect(await post.json()).toMatchObject({ message: 'Resource not accessible by integration' });
    expect(sim.comments('octo', 'model', 1)).toEqual([]);
  });

  it('with issues: write comments, but may not create a check run', async () => {
    const token = await installationToken(sim, 5, {
      repositories: ['model'],
      permissions: { issues: 'write' },
    });
    expect((await api(token, 'POST', '/repos/octo/model/issues/1/comments', { body: 'hi' })).status).toBe(
      201,
    );
    const pr = sim.pullRequestJson('octo', 'model', 1);
    const run = await api(token, 'POST', '/repos/octo/model/check-runs', {
      name: 'x',
      head_sha: pr.head.sha,
    });
    expect(run.status).toBe(403);
    expect(sim.checkRuns('octo', 'model')).toEqual([]);
  });

  it('says which permissions it carries, and is refused more than the App was granted', async () => {
    const jwt = signJwt(goodClaims(sim.appId), sim.privateKey ?? '');
    const mint = (permissions: Record<string, string>) =>
      fetch(`${sim.url}/app/installations/5/access_tokens`, {
        method: 'POST',
        headers: { authorization: `Bearer ${jwt}` },
        body: JSON.stringify({ repositories: ['model'], permissions }),
      });
    const narrowed = await mint({ checks: 'write' });
    expect(narrowed.status).toBe(201);
    expect(await narrowed.json()).toMatchObject({
      permissions: { checks: 'write' },
      repository_selection: 'selected',
    });
    const tooMuch = await mint({ contents: 'write' });
    expect(tooMuch.status).toBe(422);
    expect(await tooMuch.json()).toMatchObject({
      message: 'The permissions requested are not granted to this installation.',
    });
  });

  it('loses what its installation no longer grants, and none is minted for it', async () => {
    const token = await installationToken(sim, 5, {
      repositories: ['model'],
      permissions: { issues: 'write' },
    });
    const post = () => api(token, 'POST', '/repos/octo/model/issues/1/comments', { body: 'again' });
    expect((await post()).status).toBe(201);
    sim.setInstallationPermissions(5, { checks: 'write', contents: 'read', metadata: 'read' });
    try {
      expect((await post()).status).toBe(403);
      await expect(
        installationToken(sim, 5, { repositories: ['model'], permissions: { issues: 'write' } }),
      ).rejects.toThrow(/422.*not granted/);
    } finally {
      sim.setInstallationPermissions(5, APP_PERMISSIONS);
    }
  });
});
