import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { type GitHubSim, startGitHubSim } from '../src/index.ts';
import { runGit, tokenHeaderEnv } from './git-helpers.ts';
import { installationToken } from './jwt-helpers.ts';

let sim: GitHubSim;
let token: string;
let work: string;
let mainSha: string;

beforeAll(async () => {
  sim = await startGitHubSim();
  sim.createInstallation({ id: 5, account: 'octo' });
  sim.createInstallation({ id: 6, account: 'acme' });
  const repo = await sim.createRepo({
    owner: 'octo',
    name: 'model',
    files: { 'demo.py': 'print("base")\n' },
  });
  mainSha = repo.headSha;
  await sim.createRepo({ owner: 'octo', name: 'docs', private: false });
  token = await installationToken(sim, 5);
});
afterAll(() => sim.close());
beforeEach(async () => {
  work = await mkdtemp(join(tmpdir(), 'github-sim-git-test-'));
});
afterEach(() => rm(work, { recursive: true, force: true }));

describe('git over smart HTTP', () => {
  it('clones a private repository with an installation token sent as a Basic header', async () => {
    const result = await runGit(['clone', `${sim.gitUrl}/octo/model.git`, 'model'], {
      cwd: work,
      env: tokenHeaderEnv(token),
    });
    expect(result.code).toBe(0);
    expect(await readFile(join(work, 'model', 'demo.py'), 'utf8')).toBe('print("base")\n');
    // Also without the .git suffix, as github.com allows.
    const bare = await runGit(['ls-remote', `${sim.gitUrl}/octo/model`], {
      cwd: work,
      env: tokenHeaderEnv(token),
    });
    expect(bare.stdout).toContain(`${mainSha}\trefs/heads/main`);
  });

  it('refuses a private clone without a token, or with another installation’s, with 401 Basic realm', async () => {
    const anonymous = await runGit(['clone', `${sim.gitUrl}/octo/model.git`, 'a'], { cwd: work });
    expect(anonymous.code).not.toBe(0);
    const refused = sim.requests.filter((r) => r.surface === 'git' && r.status === 401);
    expect(refused.length).toBeGreaterThan(0);

    const other = await installationToken(sim, 6);
    const wrong = await runGit(['clone', `${sim.gitUrl}/octo/model.git`, 'b'], {
      cwd: work,
      env: tokenHeaderEnv(other),
    });
    expect(wrong.code).not.toBe(0);
    expect(wrong.stderr).toMatch(/401|Authentication failed|could not read Username/);

    const res = await fetch(`${sim.gitUrl}/octo/model.git/info/refs?service=git-upload-pack`);
    expect(res.status).toBe(401);
    expect(res.headers.get('www-authenticate')).toBe('Basic realm="GitHub"');
  });

  it('clones a public repository without a token', async () => {
    const result = await runGit(['clone', `${sim.gitUrl}/octo/docs.git`, 'docs'], { cwd: work });
    expect(result.code).toBe(0);
  });

  it('fetches one exact commit shallowly, including a fork PR head via refs/pull/N/head', async () => {
    await sim.createRepo({ owner: 'fork-user', name: 'model', forkOf: { owner: 'octo', name: 'model' } });
    const pr = await sim.openPullRequest({
      owner: 'octo',
      repo: 'model',
      headOwner: 'fork-user',
      head: 'idea',
      files: { 'demo.py': 'print("fork")\n' },
    });
    const env = tokenHeaderEnv(token);
    await runGit(['init', '--quiet', 'checkout'], { cwd: work });
    const dir = join(work, 'checkout');
    const byRef = await runGit(
      ['fetch', '--depth', '1', `${sim.gitUrl}/octo/model.git`, `refs/pull/${pr.number}/head`],
      { cwd: dir, env },
    );
    expect(byRef.code).toBe(0);
    expect((await runGit(['rev-parse', 'FETCH_HEAD'], { cwd: dir })).stdout).toBe(pr.headSha);

    const bySha = await runGit(['fetch', '--depth', '1', `${sim.gitUrl}/octo/model.git`, mainSha], {
      cwd: dir,
      env,
    });
    expect(bySha.code).toBe(0);
    expect((await runGit(['cat-file', '-t', mainSha], { cwd: dir })).stdout).toBe('commit');
  });

  it('moves refs/pull/N/head when the PR branch gets a new commit', async () => {
    const pr = await sim.openPullRequest({
      owner: 'octo',
      repo: 'model',
      head: 'topic',
      files: { 'a.txt': '1\n' },
    });
    const newSha = await sim.addCommit({
      owner: 'octo',
      repo: 'model',
      branch: 'topic',
      files: { 'a.txt': '2\n' },
    });
    expect(sim.pullRequestJson('octo', 'model', pr.number).head.sha).toBe(newSha);
    const refs = await runGit(['ls-remote', `${sim.gitUrl}/octo/model.git`, `refs/pull/${pr.number}/head`], {
      cwd: work,
      env: tokenHeaderEnv(token),
    });
    expect(refs.stdout).toBe(`${newSha}\trefs/pull/${pr.number}/head`);
  });

  it('can make a clone fail once with 500, then let it through', async () => {
    sim.injectFault({ route: 'GET /:owner/:repo.git/info/refs', kind: 'error', status: 500 });
    const env = tokenHeaderEnv(token);
    const failed = await runGit(['clone', `${sim.gitUrl}/octo/model.git`, 'x'], { cwd: work, env });
    expect(failed.code).not.toBe(0);
    expect(failed.stderr).toContain('500');
    const ok = await runGit(['clone', `${sim.gitUrl}/octo/model.git`, 'y'], { cwd: work, env });
    expect(ok.code).toBe(0);
  });

  it('inflates gzip-encoded upload-pack requests, as git sends bodies over 1 KiB', async () => {
    const pkt = (line: string) => `${(line.length + 4).toString(16).padStart(4, '0')}${line}`;
    const request = `${pkt(`want ${mainSha} ofs-delta\n`)}0000${pkt('done\n')}`;
    const res = await fetch(`${sim.gitUrl}/octo/model.git/git-upload-pack`, {
      method: 'POST',
      headers: {
        authorization: tokenHeaderEnv(token).GIT_CONFIG_VALUE_0?.replace(/^Authorization: /, '') ?? '',
        'content-type': 'application/x-git-upload-pack-request',
        'content-encoding': 'gzip',
      },
      body: gzipSync(request),
    });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('application/x-git-upload-pack-result');
    const answer = Buffer.from(await res.arrayBuffer());
    expect(answer.includes('NAK')).toBe(true);
    expect(answer.includes('PACK')).toBe(true);
  });

  it('refuses pushes', async () => {
    const env = tokenHeaderEnv(token);
    await runGit(['clone', '--quiet', `${sim.gitUrl}/octo/model.git`, 'p'], { cwd: work, env });
    const push = await runGit(['push', 'origin', 'HEAD:refs/heads/pushed'], { cwd: join(work, 'p'), env });
    expect(push.code).not.toBe(0);
    expect(sim.branchSha('octo', 'model', 'pushed')).toBeUndefined();
  });
});
