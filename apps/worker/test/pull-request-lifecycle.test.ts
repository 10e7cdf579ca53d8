import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildDelivery } from '@evalbot/github-sim';
import { type LocalStack, openMlDemoPullRequest, startLocalStack, waitFor } from '@evalbot/local-stack';
import { fakeTrainer } from '@evalbot/test-utils';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeFakeModelDir } from './fake-model.ts';

// What a PR author sees through the life of a PR, with a model that trains in no time:
// failures, new pushes, /evaluate, closing, and pushes to forks. Real processes throughout.
describe('pull request lifecycle', () => {
  let stack: LocalStack;
  let cacheDir: string;
  let modelDir: string;

  beforeAll(async () => {
    cacheDir = await mkdtemp(join(tmpdir(), 'evalbot-lifecycle-cache-'));
    modelDir = await makeFakeModelDir({ accuracy: 0.9, loss: 0.3 });
    stack = await startLocalStack({ workers: 2, cacheDir, workerEnv: { WORKER_LOCK_DURATION_MS: '5000' } });
  });
  afterAll(async () => {
    await stack?.close();
    await rm(cacheDir, { recursive: true, force: true });
    await rm(modelDir, { recursive: true, force: true });
  });

  const checkRuns = (owner: string, repo: string, sha: string) => stack.sim.checkRuns(owner, repo, sha);
  const completed = (owner: string, repo: string, sha: string) =>
    checkRuns(owner, repo, sha).filter((c) => c.status === 'completed');
  const waitForCompletedCheckRun = async (owner: string, repo: string, sha: string) => {
    await waitFor(() => completed(owner, repo, sha).length > 0, {
      timeoutMs: 120_000,
      intervalMs: 200,
      what: `a completed check run on ${sha.slice(0, 7)}`,
    });
    return completed(owner, repo, sha)[0];
  };
  /** A PR whose head trains for 5 minutes, labeled, once its ⏳ comment shows it is evaluating. */
  const openTrainingPullRequest = async (repo: string) => {
    const pr = await openMlDemoPullRequest(stack.sim, {
      repo,
      sourceDir: modelDir,
      headFiles: { 'demo.py': fakeTrainer({ accuracy: 0.91, loss: 0.29, sleepSeconds: 300 }) },
    });
    await stack.deliver(pr.labeledDelivery());
    await waitFor(() => stack.sim.comments(pr.owner, pr.repo, pr.number)[0]?.body.includes('evaluating'), {
      timeoutMs: 60_000,
      what: 'the pending comment',
    });
    return pr;
  };

  it('shows the failing stage and the error tail when the head crashes', async () => {
    const pr = await openMlDemoPullRequest(stack.sim, {
      repo: 'crashing-head',
      sourceDir: modelDir,
      headFiles: {
        'demo.py': fakeTrainer({
          accuracy: 0.95,
          loss: 0.2,
          crash: 'ValueError: shapes (3,) and (4,) not aligned',
        }),
      },
    });
    expect((await stack.deliver(pr.labeledDelivery())).status).toBe(202);
    const checkRun = await waitForCompletedCheckRun(pr.owner, pr.repo, pr.headSha);
    expect(checkRun?.conclusion).toBe('failure');
    const comments = stack.sim.comments(pr.owner, pr.repo, pr.number);
    expect(comments).toHaveLength(1);
    const body = comments[0]?.body ?? '';
    expect(body).toMatch(/head failed at run/);
    expect(body).toContain('exited with code 3');
    expect(body).toContain('ValueError: shapes (3,) and (4,) not aligned');
    // The base still shows its metrics.
    expect(body).toMatch(/^\| accuracy ↑ \| 90\.00% \| — \|/m);
  });

  it("runs the head with the base branch's repeats and seeds, not the ones the PR asks for", async () => {
    const pr = await openMlDemoPullRequest(stack.sim, {
      repo: 'noise-from-base',
      sourceDir: modelDir,
      baseFiles: { '.evalbot.yml': 'repeats: 3\nseed: 7\n' },
      // One run and a lucky seed would widen "within noise" until no threshold could fail.
      headFiles: {
        'demo.py': fakeTrainer({ accuracy: 0.91, loss: 0.29 }),
        '.evalbot.yml': 'repeats: 1\nseed: 1234\n',
      },
    });
    await stack.deliver(pr.labeledDelivery());
    await waitForCompletedCheckRun(pr.owner, pr.repo, pr.headSha);
    const body = stack.sim.comments(pr.owner, pr.repo, pr.number)[0]?.body ?? '';
    expect(body).toContain('· 3 head runs and 3 base runs.');
    expect(body).toMatch(/^\| Seeds \| 7, 8, 9 \| 7, 8, 9 \|$/m);
  });

  it('quotes the output of a crash without mentioning or referencing anyone', async () => {
    const pr = await openMlDemoPullRequest(stack.sim, {
      repo: 'mentions-in-output',
      sourceDir: modelDir,
      headFiles: {
        'demo.py': fakeTrainer({
          accuracy: 0.9,
          loss: 0.3,
          crash: 'ValueError: ask @octocat and @org/team, see org/repo#1',
        }),
      },
    });
    await stack.deliver(pr.labeledDelivery());
    const checkRun = await waitForCompletedCheckRun(pr.owner, pr.repo, pr.headSha);
    const body = stack.sim.comments(pr.owner, pr.repo, pr.number)[0]?.body ?? '';
    // Outside the log's code block, where GitHub would render them: the summary and the message.
    const quotedIn = (markdown: string) =>
      markdown.split('\n').filter((line) => /^(<summary>❌|\*\*Message:\*\*)/.test(line));
    const quoted = [...quotedIn(body), ...quotedIn(checkRun?.output?.text ?? '')];
    expect(quoted).toHaveLength(4);
    for (const text of quoted) {
      expect(text).toContain('ask @\u200boctocat and @\u200borg/team, see org/repo#\u200b1');
      expect(text).not.toMatch(/@octocat|@org\/team|repo#1/);
    }
  });

  it('starts training both sides while the ⏳ comment is still being posted', async () => {
    const pr = await openMlDemoPullRequest(stack.sim, {
      repo: 'slow-comment',
      sourceDir: modelDir,
      headFiles: { 'demo.py': fakeTrainer({ accuracy: 0.91, loss: 0.29 }) },
    });
    const route = `POST /repos/${pr.owner}/${pr.repo}/issues/:number/comments`;
    const slow = stack.sim.injectFault({ route, kind: 'delay', ms: 4_000 });
    expect((await stack.deliver(pr.labeledDelivery())).status).toBe(202);
    expect((await waitForCompletedCheckRun(pr.owner, pr.repo, pr.headSha))?.conclusion).toBe('neutral');
    expect(slow.hits).toBe(1);
    const [pending] = stack.sim.requestsMatching(route);
    const fetches = stack.sim.requestsMatching(`POST /${pr.owner}/${pr.repo}.git/git-upload-pack`);
    // Head and base were both fetched before GitHub had answered the ⏳ comment.
    expect(fetches.length).toBeGreaterThanOrEqual(2);
    const answeredAt = (pending?.startedAt ?? 0) + (pending?.durationMs ?? 0);
    expect(fetches.filter((f) => f.startedAt < answeredAt).length).toBeGreaterThanOrEqual(2);
    // And the PR still ends with the one comment, showing the result.
    const comments = stack.sim.comments(pr.owner, pr.repo, pr.number);
    expect(comments).toHaveLength(1);
    expect(comments[0]?.body).toMatch(/^\| accuracy ↑ \| 90\.00% \| 91\.00% \|/m);
  });

  it('names the metrics file and the problem when it is not JSON or a dict', async () => {
    const pr = await openMlDemoPullRequest(stack.sim, {
      repo: 'bad-metrics',
      sourceDir: modelDir,
      headFiles: { 'demo.py': 'open("result.txt", "w").write("accuracy = 0.9\\n")\n' },
    });
    await stack.deliver(pr.labeledDelivery());
    const checkRun = await waitForCompletedCheckRun(pr.owner, pr.repo, pr.headSha);
    expect(checkRun?.conclusion).toBe('failure');
    const body = stack.sim.comments(pr.owner, pr.repo, pr.number)[0]?.body ?? '';
    expect(body).toMatch(/head failed at metrics/);
    expect(body).toContain('result.txt');
  });

  it('stops a running evaluation when a newer commit is pushed and reports the newest head', async () => {
    const pr = await openTrainingPullRequest('superseded');
    const newHead = await stack.sim.addCommit({
      owner: pr.owner,
      repo: pr.repo,
      branch: 'tune-learning-rate',
      files: { 'demo.py': fakeTrainer({ accuracy: 0.93, loss: 0.25 }) },
    });
    expect((await stack.deliver(pr.delivery({ event: 'pull_request', action: 'synchronize' }))).status).toBe(
      202,
    );

    const old = await waitForCompletedCheckRun(pr.owner, pr.repo, pr.headSha);
    expect(old?.conclusion).toBe('cancelled');
    expect(old?.output.title).toContain(`Superseded by ${newHead.slice(0, 7)}`);
    const latest = await waitForCompletedCheckRun(pr.owner, pr.repo, newHead);
    expect(latest?.conclusion).toBe('neutral');
    const comments = stack.sim.comments(pr.owner, pr.repo, pr.number);
    expect(comments).toHaveLength(1);
    expect(comments[0]?.body).toContain(newHead.slice(0, 7));
    expect(comments[0]?.body).toMatch(/^\| accuracy ↑ \| 90\.00% \| 93\.00% \| \+3\.00 pts \|/m);
  });

  it('runs /evaluate for a user with write access and refuses one without', async () => {
    const pr = await openMlDemoPullRequest(stack.sim, {
      repo: 'slash-evaluate',
      sourceDir: modelDir,
      headFiles: { 'demo.py': fakeTrainer({ accuracy: 0.92, loss: 0.28 }) },
    });
    stack.sim.setCollaborator({ owner: pr.owner, repo: pr.repo, login: 'visitor', role: 'read' });
    const visitorComment = stack.sim.addIssueComment({ ...pr, body: '/evaluate please', user: 'visitor' });
    const refused = pr.delivery({
      event: 'issue_comment',
      action: 'created',
      comment: { id: visitorComment.id, body: '/evaluate please', author: 'visitor' },
      sender: 'visitor',
    });
    expect((await stack.deliver(refused)).status).toBe(202);
    await waitFor(
      () =>
        stack.sim.comments(pr.owner, pr.repo, pr.number).some((c) => c.body.includes('needs write access')),
      {
        timeoutMs: 30_000,
        what: 'the refusal reply',
      },
    );
    expect(checkRuns(pr.owner, pr.repo, pr.headSha)).toHaveLength(0);

    const maintainerComment = stack.sim.addIssueComment({ ...pr, body: '/evaluate', user: 'mona' });
    await stack.deliver(
      pr.delivery({
        event: 'issue_comment',
        action: 'created',
        comment: { id: maintainerComment.id, body: '/evaluate', author: 'mona' },
        sender: 'mona',
      }),
    );
    const checkRun = await waitForCompletedCheckRun(pr.owner, pr.repo, pr.headSha);
    expect(checkRun?.conclusion).toBe('neutral');
    expect(stack.sim.reactions(maintainerComment.id).map((r) => r.content)).toEqual(['eyes']);
    expect(stack.sim.reactions(visitorComment.id)).toEqual([]);
    const reports = stack.sim
      .comments(pr.owner, pr.repo, pr.number)
      .filter((c) => c.user.login === stack.sim.botLogin && c.body.includes('<!-- evalbot:report -->'));
    expect(reports).toHaveLength(1);
  });

  it('cancels the evaluation when the PR is closed and says so', async () => {
    const pr = await openTrainingPullRequest('closed-early');
    await stack.sim.setPullRequestState({
      owner: pr.owner,
      repo: pr.repo,
      number: pr.number,
      state: 'closed',
    });
    expect((await stack.deliver(pr.delivery({ event: 'pull_request', action: 'closed' }))).status).toBe(202);
    const checkRun = await waitForCompletedCheckRun(pr.owner, pr.repo, pr.headSha);
    expect(checkRun?.conclusion).toBe('cancelled');
    const comments = stack.sim.comments(pr.owner, pr.repo, pr.number);
    expect(comments).toHaveLength(1);
    expect(comments[0]?.body).toMatch(/cancelled/);
    expect(comments[0]?.body).toContain('pull request was closed');
  });

  it('does not run new fork commits by an author without write access, and removes the label', async () => {
    const owner = 'octo-org';
    const repo = 'fork-target';
    const installation = stack.sim.createInstallation({ id: 8_100, account: owner });
    await stack.sim.createRepo({ owner, name: repo, fromDir: modelDir, installationId: installation.id });
    await stack.sim.createRepo({ owner: 'outsider', name: repo, forkOf: { owner, name: repo } });
    await stack.sim.addCommit({
      owner: 'outsider',
      repo,
      branch: 'faster',
      files: { 'demo.py': fakeTrainer({ accuracy: 0.99, loss: 0.01 }) },
    });
    const opened = await stack.sim.openPullRequest({
      owner,
      repo,
      head: 'faster',
      headOwner: 'outsider',
      user: 'outsider',
      labels: ['evaluate'],
    });
    const pushed = await stack.sim.addCommit({
      owner: 'outsider',
      repo,
      branch: 'faster',
      files: { 'steal.py': 'print("new code nobody reviewed")\n' },
    });
    const pull = stack.sim.pullRequestJson(owner, repo, opened.number);
    const delivery = buildDelivery({
      event: 'pull_request',
      action: 'synchronize',
      repo: { owner, name: repo },
      apiUrl: stack.sim.url,
      webUrl: stack.sim.gitUrl,
      installationId: installation.id,
      appId: stack.sim.appId,
      sender: 'outsider',
      pullRequest: {
        number: opened.number,
        headSha: pushed,
        baseSha: pull.base.sha,
        headRef: 'faster',
        headRepo: { owner: 'outsider', name: repo },
        author: 'outsider',
        labels: ['evaluate'],
      },
    });
    expect((await stack.deliver(delivery)).status).toBe(202);
    const checkRun = await waitForCompletedCheckRun(owner, repo, pushed);
    expect(checkRun?.conclusion).toBe('neutral');
    expect(checkRun?.output.title).toMatch(/maintainer/);
    expect(stack.sim.labels(owner, repo, opened.number)).not.toContain('evaluate');
    const body = stack.sim.comments(owner, repo, opened.number)[0]?.body ?? '';
    expect(body).toContain('did not run it');
    expect(body).toMatch(/maintainer must review/);
    // The fork's code never ran: no metrics table.
    expect(body).not.toContain('| Metric |');
  });
});
