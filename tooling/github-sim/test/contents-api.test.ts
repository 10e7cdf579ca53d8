import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type GitHubSim, startGitHubSim } from '../src/index.ts';
import { installationToken } from './jwt-helpers.ts';

let sim: GitHubSim;
let token: string;
let headSha: string;
let baseSha: string;

beforeAll(async () => {
  sim = await startGitHubSim({ slug: 'evalbot' });
  sim.createInstallation({ id: 1, account: 'octo' });
  sim.createInstallation({ id: 2, account: 'acme' });
  await sim.createRepo({ owner: 'octo', name: 'model' });
  await sim.createRepo({ owner: 'acme', name: 'secret', private: true });
  ({ headSha, baseSha } = await sim.openPullRequest({
    owner: 'octo',
    repo: 'model',
    head: 'feature',
    files: { '.evalbot.yml': 'resources: {gpu: 1}\n', 'src/model.py': 'x = 1\n' },
    user: 'alice',
  }));
  token = await installationToken(sim, 1);
});
afterAll(() => sim.close());

async function get(path: string) {
  const res = await fetch(`${sim.url}${path}`, {
    headers: { accept: 'application/vnd.github+json', authorization: `token ${token}` },
  });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> & unknown[] };
}

// GET /repos/{owner}/{repo}/contents/{path}: https://docs.github.com/rest/repos/contents#get-repository-content
describe('repository contents', () => {
  it('answers a file at a commit with its base64 content, as GitHub does', async () => {
    const res = await get(`/repos/octo/model/contents/.evalbot.yml?ref=${headSha}`);
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({
      type: 'file',
      encoding: 'base64',
      name: '.evalbot.yml',
      path: '.evalbot.yml',
      size: 20,
    });
    expect(Buffer.from(String(res.body.content), 'base64').toString('utf8')).toBe('resources: {gpu: 1}\n');
    expect(res.body.sha).toMatch(/^[0-9a-f]{40}$/);
  });

  it('reads the default branch without a ref, and lists a directory', async () => {
    expect((await get('/repos/octo/model/contents/.evalbot.yml')).status).toBe(404);
    const dir = await get(`/repos/octo/model/contents/src?ref=feature`);
    expect(dir.status).toBe(200);
    expect(dir.body).toEqual([
      expect.objectContaining({ type: 'file', name: 'model.py', path: 'src/model.py', size: 6 }),
    ]);
  });

  it('answers 404 for a path or a ref that does not exist, and for another installation’s repository', async () => {
    expect((await get(`/repos/octo/model/contents/nope.txt?ref=${baseSha}`)).status).toBe(404);
    const badRef = await get('/repos/octo/model/contents/.evalbot.yml?ref=no-such-branch');
    expect(badRef.status).toBe(404);
    expect(badRef.body.message).toBe('No commit found for the ref no-such-branch');
    // The root listing, which exists in both: refused only for the repository the token does not cover.
    expect((await get('/repos/octo/model/contents/')).status).toBe(200);
    expect((await get('/repos/acme/secret/contents/')).status).toBe(404);
  });
});
