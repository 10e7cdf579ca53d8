import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildApps } from '@evalbot/app-bundle';
import { type LocalStack, openMlDemoPullRequest, startLocalStack, waitFor } from '@evalbot/local-stack';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

// The product's main path with nothing faked but GitHub: a signed `labeled` delivery → the
// gateway process → Redis → two worker processes → real Keras training of ml-demo at head and
// base → one comment and one completed check run on the stand-in's PR. The gateway and the
// workers run as the images run them: the bundles `pnpm build` writes.
describe('a labeled pull request on the ml-demo model', () => {
  let stack: LocalStack;
  let cacheDir: string;
  let ownCache = false;

  beforeAll(async () => {
    cacheDir = process.env.EVALBOT_CACHE_DIR ?? (await mkdtemp(join(tmpdir(), 'evalbot-e2e-cache-')));
    ownCache = !process.env.EVALBOT_CACHE_DIR;
    await buildApps(['gateway', 'worker']);
    stack = await startLocalStack({ workers: 2, cacheDir, runtime: 'bundle' });
  }, 120_000);
  afterAll(async () => {
    await stack?.close();
    if (ownCache) await rm(cacheDir, { recursive: true, force: true });
  });

  const completedCheckRuns = (owner: string, repo: string, sha: string) =>
    stack.sim.checkRuns(owner, repo, sha).filter((c) => c.status === 'completed');

  it('posts one comment comparing head and base after training both', { timeout: 900_000 }, async () => {
    const pr = await openMlDemoPullRequest(stack.sim, { repo: 'mnist-e2e' });
    const answer = await stack.deliver(pr.labeledDelivery({ label: 'Evaluate' }));
    expect(answer.status).toBe(202);
    expect(JSON.parse(answer.body)).toMatchObject({ status: 'recorded' });

    await waitFor(() => completedCheckRuns(pr.owner, pr.repo, pr.headSha).length === 1, {
      timeoutMs: 840_000,
      intervalMs: 500,
      what: 'the check run to complete',
    });
    const comments = stack.sim.comments(pr.owner, pr.repo, pr.number);
    expect(comments).toHaveLength(1);
    const [comment] = comments;
    expect(comment?.user.login).toBe(stack.sim.botLogin);
    const body = comment?.body ?? '';
    // Both sides' loss and accuracy with their differences, in the diff table.
    expect(body).toMatch(/\| Metric \| Base `[0-9a-f]{7}` \| Head `[0-9a-f]{7}` \| Change \|/);
    expect(body).toMatch(/^\| accuracy ↑ \| \d+\.\d+% \| \d+\.\d+% \| [^|]*pts \|/m);
    expect(body).toMatch(/^\| loss ↓ \| 0\.\d+ \| 0\.\d+ \| [^|]*\d[^|]* \|/m);
    expect(body).toContain(pr.headSha.slice(0, 7));
    expect(body).toContain(pr.baseSha.slice(0, 7));
    expect(body).toContain('```mermaid');
    const [checkRun] = completedCheckRuns(pr.owner, pr.repo, pr.headSha);
    expect(checkRun?.name).toBe('evalbot');
    expect(checkRun?.conclusion).toBe('neutral');
    expect(checkRun?.output.title).toMatch(/accuracy/);
    // Nothing left in the workers' job directories.
    for (const dir of stack.workDirs) expect(await readdir(dir)).toEqual([]);
  });

  it('reuses the base result for a second PR on the same base and says so', {
    timeout: 600_000,
  }, async () => {
    const first = await openMlDemoPullRequest(stack.sim, { repo: 'mnist-reuse' });
    await stack.deliver(first.labeledDelivery());
    await waitFor(() => completedCheckRuns(first.owner, first.repo, first.headSha).length === 1, {
      timeoutMs: 300_000,
      intervalMs: 500,
      what: 'the first evaluation',
    });
    // A new push to the PR: a new head, the same base commit.
    await stack.sim.addCommit({
      owner: first.owner,
      repo: first.repo,
      branch: 'tune-learning-rate',
      files: { 'NOTES.md': 'learning rate notes\n' },
    });
    const headSha = stack.sim.branchSha(first.owner, first.repo, 'tune-learning-rate') ?? '';
    const answer = await stack.deliver(first.delivery({ event: 'pull_request', action: 'synchronize' }));
    expect(answer.status).toBe(202);
    await waitFor(() => completedCheckRuns(first.owner, first.repo, headSha).length === 1, {
      timeoutMs: 300_000,
      intervalMs: 500,
      what: 'the second evaluation',
    });
    const comments = stack.sim.comments(first.owner, first.repo, first.number);
    expect(comments).toHaveLength(1);
    const body = comments[0]?.body ?? '';
    expect(body).toContain(headSha.slice(0, 7));
    expect(body).toContain('reused from cache (not trained again)');
    // The earlier run is kept as history in the same comment.
    expect(body).toContain(first.headSha.slice(0, 7));
  });
});
