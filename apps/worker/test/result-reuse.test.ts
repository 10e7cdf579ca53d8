import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  type DemoPullRequest,
  type LocalStack,
  openMlDemoPullRequest,
  startLocalStack,
  waitFor,
} from '@evalbot/local-stack';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

// A model whose accuracy is a new random number on every run: a report showing the same
// number again was not trained again.
const RANDOM_DEMO =
  'import json, random\njson.dump({"accuracy": random.random(), "loss": random.random()}, open("result.txt", "w"))\n';

// Results reused by content, through real processes: the gateway, Redis, a worker, the stand-in.
describe('results reused by content', () => {
  let stack: LocalStack;
  let cacheDir: string;
  let modelDir: string;

  beforeAll(async () => {
    cacheDir = await mkdtemp(join(tmpdir(), 'evalbot-reuse-cache-'));
    modelDir = await mkdtemp(join(tmpdir(), 'evalbot-reuse-model-'));
    await writeFile(join(modelDir, 'demo.py'), RANDOM_DEMO);
    await writeFile(join(modelDir, 'requirements.txt'), '');
    await writeFile(join(modelDir, '.evalbot.yml'), 'ignore:\n  - docs/**\n  - "*.md"\n');
    stack = await startLocalStack({ workers: 1, cacheDir });
  });
  afterAll(async () => {
    await stack?.close();
    await rm(cacheDir, { recursive: true, force: true });
    await rm(modelDir, { recursive: true, force: true });
  });

  const completed = (owner: string, repo: string, sha: string) =>
    stack.sim.checkRuns(owner, repo, sha).filter((c) => c.status === 'completed');
  const accuracyRow = (body: string) => /^\| accuracy ↑ \|[^\n]*$/m.exec(body)?.[0];

  async function evaluated(pr: { owner: string; repo: string; number: number }, sha: string) {
    await waitFor(() => completed(pr.owner, pr.repo, sha).length === 1, {
      timeoutMs: 120_000,
      intervalMs: 200,
      what: `the check run of ${sha.slice(0, 7)}`,
    });
    const comments = stack.sim.comments(pr.owner, pr.repo, pr.number);
    expect(comments).toHaveLength(1);
    const body = comments[0]?.body ?? '';
    // The newest run is the report; earlier ones follow as history.
    return body.slice(0, body.indexOf('Earlier runs') === -1 ? undefined : body.indexOf('Earlier runs'));
  }

  async function push(pr: DemoPullRequest, files: Record<string, string>) {
    const sha = await stack.sim.addCommit({
      owner: pr.owner,
      repo: pr.repo,
      branch: 'tune-learning-rate',
      files,
      message: 'Another push',
    });
    const answer = await stack.deliver(pr.delivery({ event: 'pull_request', action: 'synchronize' }));
    expect(answer.status).toBe(202);
    return sha;
  }

  it('reports a documentation-only push without training, naming the reused result', async () => {
    const pr = await openMlDemoPullRequest(stack.sim, {
      repo: 'docs-only-push',
      sourceDir: modelDir,
      headFiles: { 'demo.py': `${RANDOM_DEMO}# tuned\n` },
    });
    await stack.deliver(pr.labeledDelivery());
    const first = await evaluated(pr, pr.headSha);
    expect(first).toContain('| Result | trained for this run | trained for this run |');

    const pushedAt = Date.now();
    const docsOnly = await push(pr, { 'docs/tuning.md': '# How we tuned\n', 'NOTES.md': 'notes\n' });
    const second = await evaluated(pr, docsOnly);
    expect(second).toContain(docsOnly.slice(0, 7));
    expect(second).toContain(
      `| Result | ♻️ reused from cache (not trained again) | ♻️ same content as \`${pr.headSha.slice(0, 7)}\`, result reused (not trained again) |`,
    );
    expect(accuracyRow(first)).toMatch(/\d+\.\d+%/);
    expect(accuracyRow(second)).toBe(accuracyRow(first));
    // Nothing trains, so nothing is shown as in progress: no ⏳ edit of the comment, and the
    // check run created completed — two writes, the report and its check run.
    const since = (route: string) =>
      stack.sim.requestsMatching(route).filter((r) => r.startedAt >= pushedAt && r.status < 300);
    const repo = `/repos/${pr.owner}/${pr.repo}`;
    expect(since(`PATCH ${repo}/issues/comments/:id`)).toHaveLength(1);
    expect(since(`POST ${repo}/issues/:n/comments`)).toHaveLength(0);
    expect(since(`POST ${repo}/check-runs`)).toHaveLength(1);
    expect(since(`PATCH ${repo}/check-runs/:id`)).toHaveLength(0);
    expect(stack.sim.checkRuns(pr.owner, pr.repo, docsOnly)).toMatchObject([
      { status: 'completed', conclusion: 'neutral' },
    ]);
  });

  it('reuses both sides after a rebase onto the same base with the same content', async () => {
    const pr = await openMlDemoPullRequest(stack.sim, {
      repo: 'rebased-pr',
      sourceDir: modelDir,
      headFiles: { 'demo.py': `${RANDOM_DEMO}# rebased\n` },
    });
    await stack.deliver(pr.labeledDelivery());
    const first = await evaluated(pr, pr.headSha);

    // A new commit object with the very same tree, as a rebase or an amended message makes.
    const rebased = await push(pr, {});
    expect(rebased).not.toBe(pr.headSha);
    const second = await evaluated(pr, rebased);
    expect(second).toContain(
      `| Result | ♻️ reused from cache (not trained again) | ♻️ same content as \`${pr.headSha.slice(0, 7)}\`, result reused (not trained again) |`,
    );
    expect(accuracyRow(first)).toMatch(/\d+\.\d+%/);
    expect(accuracyRow(second)).toBe(accuracyRow(first));

    const metrics = await (await fetch(stack.metricsUrls[0] ?? '')).text();
    const hits = Number(/^evalbot_worker_result_cache_total\{result="hit"\} (\d+)/m.exec(metrics)?.[1]);
    expect(hits).toBeGreaterThanOrEqual(2);
  });

  it('trains again when the push changes a file the evaluation reads', async () => {
    const pr = await openMlDemoPullRequest(stack.sim, {
      repo: 'code-change',
      sourceDir: modelDir,
      headFiles: { 'demo.py': `${RANDOM_DEMO}# first\n` },
    });
    await stack.deliver(pr.labeledDelivery());
    const first = await evaluated(pr, pr.headSha);
    const changed = await push(pr, { 'demo.py': `${RANDOM_DEMO}# second\n` });
    const second = await evaluated(pr, changed);
    expect(second).toContain('| Result | ♻️ reused from cache (not trained again) | trained for this run |');
    expect(accuracyRow(second)).not.toBe(accuracyRow(first));
  });

  it('derives the environment of a head that adds a requirement, and says so in the run details', async () => {
    const pr = await openMlDemoPullRequest(stack.sim, {
      repo: 'requirement-bump',
      sourceDir: modelDir,
      baseFiles: { 'requirements.txt': 'six\n' },
      headFiles: { 'demo.py': `import six\n${RANDOM_DEMO}` },
    });
    await stack.deliver(pr.labeledDelivery());
    const first = await evaluated(pr, pr.headSha);
    expect(first).toMatch(/^\| Environment \| (built|reused from cache) \| (built|reused from cache) \|$/m);

    const bumped = await push(pr, {
      'requirements.txt': 'six\ntoml\n',
      'demo.py': `import six, toml\n${RANDOM_DEMO}`,
    });
    const second = await evaluated(pr, bumped);
    // The base's cell is that of its reused result: built or reused, whichever side ran first.
    expect(second).toMatch(
      /^\| Environment \| (built|reused from cache) \| derived from a cached one \(only the difference installed\) \|$/m,
    );
    expect(second).toContain('| Result | ♻️ reused from cache (not trained again) | trained for this run |');
  });
});
