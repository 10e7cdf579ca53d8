import { waitFor } from '@evalbot/local-stack';
import { describe, expect, it } from 'vitest';
import {
  botComments,
  checkRunsOf,
  deliverOk,
  GOOD_REPORT,
  jobsOfPullRequest,
  openGoodPullRequest,
  pullRequestSettled,
  type TinyPullRequest,
  useFaultStack,
  waitForReport,
} from './fault-stack.ts';
import { expectNoSecretShown, expectNothingLeftBehind, expectOneReport } from './invariants.ts';

// GitHub refusing evalbot for good, as it does when the App lacks a permission (403 "Resource
// not accessible by integration") or the repository is gone (404): the job fails at once
// instead of retrying for twenty minutes, and the author is told through the output that
// still works. A rate limit, by contrast, is waited out. Each scenario has its own repository.

const NOT_ACCESSIBLE = 'Resource not accessible by integration';

const fault = useFaultStack({ workers: 2 });
const pullRequests: TinyPullRequest[] = [];

async function goodPullRequest(repo: string): Promise<{ pr: TinyPullRequest; marker: string }> {
  const opened = await openGoodPullRequest(fault.stack, repo);
  pullRequests.push(opened.pr);
  return opened;
}

/** The PR's compare job once it failed, with the attempts it made. */
async function failedCompareJob(pr: TinyPullRequest) {
  return waitFor(
    async () => {
      const [failed] = await jobsOfPullRequest(fault.queues.compare, pr, ['failed']);
      return failed && (await pullRequestSettled(fault, pr)) ? failed : undefined;
    },
    { timeoutMs: 90_000, intervalMs: 200, what: `the failed compare job of ${pr.repo}` },
  );
}

describe('a PR evaluation GitHub refuses for good', { timeout: 150_000 }, () => {
  it('fails at once when the comment is refused, and the check run names the missing permission', async () => {
    const { stack } = fault;
    const repo = 'no-issues-permission';
    const refused = stack.sim.injectFault({
      route: `POST /repos/octo-org/${repo}/issues/:number/comments`,
      kind: 'error',
      status: 403,
      message: NOT_ACCESSIBLE,
      times: 50,
    });
    const { pr, marker } = await goodPullRequest(repo);
    await deliverOk(stack, pr.labeledDelivery());

    const job = await failedCompareJob(pr);
    expect(job.attemptsMade).toBe(1);
    expect(job.failedReason).toContain(NOT_ACCESSIBLE);
    // The ⏳ comment once, the report once: never retried.
    expect(refused.hits).toBe(2);
    expect(botComments(stack, pr)).toEqual([]);
    const runs = checkRunsOf(stack, pr, pr.headSha);
    expect(runs.map((r) => [r.status, r.conclusion])).toEqual([['completed', 'neutral']]);
    const summary = runs[0]?.output.summary ?? '';
    expect(summary).toContain('could not write its comment');
    expect(summary).toContain(NOT_ACCESSIBLE);
    expect(summary).toContain('**Issues: Read and write**');
    expect(summary).toMatch(/accuracy ↑ \| 93\.\d+% \| 95\.\d+%/);
    // The evaluation itself was not stopped for want of a comment.
    const sides = await jobsOfPullRequest(fault.queues.evaluate, pr, ['completed']);
    expect(sides.map((j) => j.returnvalue.ok)).toEqual([true, true]);
    await expectNothingLeftBehind(fault, [marker]);
  });

  it('fails at once when the installation has not granted the comment’s permission, and the check run says so', async () => {
    const { stack } = fault;
    const { pr, marker } = await goodPullRequest('issues-not-granted');
    const granted = { ...stack.sim.state.installations.get(pr.installationId)?.permissions };
    // An owner has not accepted the App's issues and pull_requests permissions.
    stack.sim.setInstallationPermissions(pr.installationId, {
      checks: 'write',
      contents: 'read',
      metadata: 'read',
    });
    try {
      await deliverOk(stack, pr.labeledDelivery());
      const job = await failedCompareJob(pr);
      expect(job.attemptsMade).toBe(1);
    } finally {
      stack.sim.setInstallationPermissions(pr.installationId, granted);
    }
    expect(botComments(stack, pr)).toEqual([]);
    const runs = checkRunsOf(stack, pr, pr.headSha);
    expect(runs.map((r) => [r.status, r.conclusion])).toEqual([['completed', 'neutral']]);
    const summary = runs[0]?.output.summary ?? '';
    expect(summary).toContain('The permissions requested are not granted to this installation');
    expect(summary).toMatch(/accuracy ↑ \| 93\.\d+% \| 95\.\d+%/);
    expect(summary).toContain('**Issues: Read and write**');
    await expectNothingLeftBehind(fault, [marker]);
  });

  it('fails at once when the check run is refused, and the comment says so', async () => {
    const { stack } = fault;
    const repo = 'no-checks-permission';
    const refused = stack.sim.injectFault({
      route: `POST /repos/octo-org/${repo}/check-runs`,
      kind: 'error',
      status: 403,
      message: NOT_ACCESSIBLE,
      times: 50,
    });
    const { pr, marker } = await goodPullRequest(repo);
    await deliverOk(stack, pr.labeledDelivery());

    const job = await failedCompareJob(pr);
    expect(job.attemptsMade).toBe(1);
    expect(refused.hits).toBe(2);
    expect(checkRunsOf(stack, pr, pr.headSha)).toEqual([]);
    const comments = botComments(stack, pr);
    expect(comments).toHaveLength(1);
    const body = comments[0]?.body ?? '';
    expect(body).toMatch(GOOD_REPORT);
    expect(body).not.toContain('⏳');
    expect(body).toContain('could not write its check run');
    expect(body).toContain('**Checks: Read and write**');
    await expectNothingLeftBehind(fault, [marker]);
  });

  it('fails at once, with nothing left running, when the repository is gone (404)', async () => {
    const { stack } = fault;
    const repo = 'deleted-repository';
    // Every API call on the repository: the clone was made before it was deleted.
    const gone = stack.sim.injectFault({
      route: new RegExp(`^\\w+ /repos/octo-org/${repo}/`),
      kind: 'error',
      status: 404,
      message: 'Not Found',
      times: 100,
    });
    const { pr, marker } = await goodPullRequest(repo);
    await deliverOk(stack, pr.labeledDelivery());

    const job = await failedCompareJob(pr);
    expect(job.attemptsMade).toBe(1);
    expect(job.failedReason).toContain('Not Found');
    const sides = await jobsOfPullRequest(fault.queues.evaluate, pr, ['failed']);
    expect(sides.map((j) => j.attemptsMade)).toEqual([1, 1]);
    // Two sides' ⏳ comment and check run, then the report's: each tried once.
    expect(gone.hits).toBeLessThanOrEqual(8);
    expect(stack.sim.checkRuns(pr.owner, pr.repo).filter((r) => r.status !== 'completed')).toEqual([]);
    await expectNothingLeftBehind(fault, [marker]);
  });
});

it('fails an /evaluate at once when GitHub refuses the commenter’s permission check for good', async () => {
  const { stack } = fault;
  const { pr } = await goodPullRequest('evaluate-refused');
  const refused = stack.sim.injectFault({
    route: `GET /repos/octo-org/${pr.repo}/collaborators/:username/permission`,
    kind: 'error',
    status: 403,
    message: NOT_ACCESSIBLE,
    times: 10,
  });
  const comment = stack.sim.addIssueComment({ ...pr, body: '/evaluate', user: 'mona' });
  await deliverOk(
    stack,
    pr.delivery({
      event: 'issue_comment',
      action: 'created',
      comment: { id: comment.id, body: '/evaluate', author: 'mona' },
      sender: 'mona',
    }),
  );

  const job = await waitFor(async () => (await jobsOfPullRequest(fault.queues.command, pr, ['failed']))[0], {
    timeoutMs: 30_000,
    intervalMs: 200,
    what: 'the failed /evaluate job',
  });
  expect(job.attemptsMade).toBe(1);
  expect(job.failedReason).toContain('GitHub answered 403');
  expect(refused.hits).toBe(1);
  expect(await jobsOfPullRequest(fault.queues.command, pr, ['delayed', 'wait', 'active'])).toEqual([]);
}, 60_000);

it('waits out a secondary rate limit on the comment as GitHub asks, and posts it once', async () => {
  const { stack } = fault;
  const repo = 'secondary-limit-comment';
  const limited = stack.sim.injectFault({
    route: `POST /repos/octo-org/${repo}/issues/:number/comments`,
    kind: 'secondary-rate-limit',
    retryAfterSeconds: 2,
  });
  const { pr, marker } = await goodPullRequest(repo);
  await deliverOk(stack, pr.labeledDelivery());

  await waitForReport(fault, pr, pr.headSha);
  expect(limited.hits).toBe(1);
  const posts = stack.sim
    .requestsMatching(`POST /repos/octo-org/${repo}/issues/:number/comments`)
    .map((r) => r.status);
  expect(posts).toEqual([403, 201]);
  const [limitedAt, postedAt] = stack.sim
    .requestsMatching(`POST /repos/octo-org/${repo}/issues/:number/comments`)
    .map((r) => r.startedAt);
  expect((postedAt ?? 0) - (limitedAt ?? 0)).toBeGreaterThanOrEqual(2000);
  const body = await expectOneReport(fault, pr, pr.headSha, { conclusion: 'neutral' });
  expect(body).toMatch(GOOD_REPORT);
  await expectNothingLeftBehind(fault, [marker]);
}, 150_000);

it('clones and writes with tokens that reach only the PR’s repository and what each step needs', async () => {
  const { stack } = fault;
  const before = new Set(stack.sim.state.tokens.keys());
  const { pr, marker } = await goodPullRequest('scoped-tokens');
  await deliverOk(stack, pr.labeledDelivery());

  await waitForReport(fault, pr, pr.headSha);
  await expectOneReport(fault, pr, pr.headSha, { conclusion: 'neutral' });
  const repoId = stack.sim.state.repo(pr.owner, pr.repo)?.id;
  const minted = [...stack.sim.state.tokens.values()].filter((t) => !before.has(t.token));
  expect(minted.map((t) => [...(t.repoIds ?? ['every repository'])])).toEqual(minted.map(() => [repoId]));
  // Each worker process mints its own, so a scope may come more than once.
  const scopes = new Set(minted.map((t) => JSON.stringify(t.permissions)));
  expect([...scopes].sort()).toEqual(
    [{ checks: 'write' }, { contents: 'read' }, { issues: 'write' }].map((p) => JSON.stringify(p)),
  );
  // One listing of the PR's comments per publish: the ⏳ comment, then the report.
  expect(stack.sim.requestsMatching(`GET /repos/${pr.owner}/${pr.repo}/issues/:n/comments`)).toHaveLength(2);
  await expectNothingLeftBehind(fault, [marker]);
}, 150_000);

it('lets no secret reach GitHub, Redis or the logs through these refusals', async () => {
  await expectNoSecretShown(fault.stack, pullRequests);
});
