import { describe, expect, it } from 'vitest';
import {
  deliverOk,
  GOOD_REPORT,
  jobsOfPullRequest,
  openGoodPullRequest,
  type TinyPullRequest,
  useFaultStack,
  waitForReport,
} from './fault-stack.ts';
import { expectNoSecretShown, expectNothingLeftBehind, expectOneReport } from './invariants.ts';

// The GitHub stand-in failing evalbot's calls: 5xx and rate limits on the comment, the check
// run and the comment listing, a rate limit longer than every retry, a clone answered 500.
// Each time the PR must end with one current comment, the compare job completed once, one
// completed check run for the head, no failed job, and nothing left running or on disk.
// Each scenario has its own repository, and the faults are injected on its routes only.

const fault = useFaultStack({ workers: 2 });
const pullRequests: TinyPullRequest[] = [];

/** A good PR on its own repository, remembered for the secrets check at the end. */
async function goodPullRequest(repo: string): Promise<{ pr: TinyPullRequest; marker: string }> {
  const opened = await openGoodPullRequest(fault.stack, repo);
  pullRequests.push(opened.pr);
  return opened;
}

describe('a PR evaluation', { timeout: 150_000 }, () => {
  it('posts one comment and one check run while GitHub answers 5xx and rate limits', async () => {
    const { stack } = fault;
    const repo = 'github-faults';
    const api = `/repos/octo-org/${repo}`;
    const injected = [
      stack.sim.injectFault({
        route: `POST ${api}/issues/:number/comments`,
        kind: 'error',
        status: 500,
        times: 2,
      }),
      stack.sim.injectFault({ route: `GET ${api}/issues/:number/comments`, kind: 'error', status: 502 }),
      stack.sim.injectFault({
        route: `PATCH ${api}/issues/comments/:id`,
        kind: 'rate-limit',
        resetInSeconds: 2,
      }),
      stack.sim.injectFault({
        route: `PATCH ${api}/issues/comments/:id`,
        kind: 'secondary-rate-limit',
        retryAfterSeconds: 1,
      }),
      stack.sim.injectFault({ route: `POST ${api}/check-runs`, kind: 'error', status: 503 }),
      stack.sim.injectFault({ route: `PATCH ${api}/check-runs/:id`, kind: 'error', status: 500 }),
    ];
    const { pr, marker } = await goodPullRequest(repo);
    await deliverOk(stack, pr.labeledDelivery());

    await waitForReport(fault, pr, pr.headSha);
    expect(injected.map((f) => f.hits)).toEqual([2, 1, 1, 1, 1, 1]);
    const body = await expectOneReport(fault, pr, pr.headSha, { conclusion: 'neutral' });
    expect(body).toMatch(GOOD_REPORT);
    await expectNothingLeftBehind(fault, [marker]);
  });

  it('retries a side whose ⏳ comment could not be posted, and still reports once', async () => {
    const { stack } = fault;
    const repo = 'pending-comment-fails';
    // 4 answers: Octokit's try and its 3 retries of the first ⏳ comment all fail, so that side
    // stops its training and its job fails once; its retry (or the other side) posts it.
    const failing = stack.sim.injectFault({
      route: `POST /repos/octo-org/${repo}/issues/:number/comments`,
      kind: 'error',
      status: 500,
      times: 4,
    });
    const { pr, marker } = await goodPullRequest(repo);
    await deliverOk(stack, pr.labeledDelivery());

    await waitForReport(fault, pr, pr.headSha);
    expect(failing.hits).toBe(4);
    const body = await expectOneReport(fault, pr, pr.headSha, { conclusion: 'neutral' });
    expect(body).toMatch(GOOD_REPORT);
    await expectNothingLeftBehind(fault, [marker]);
  });

  it('publishes once a rate limit that outlasts Octokit’s own retries and the job’s attempts ends', async () => {
    const { stack } = fault;
    const repo = 'long-rate-limit';
    // 12 answers: 4 per attempt (Octokit's try and 3 retries) would fail the job's 3 attempts.
    const injected = stack.sim.injectFault({
      route: `PATCH /repos/octo-org/${repo}/issues/comments/:id`,
      kind: 'secondary-rate-limit',
      retryAfterSeconds: 1,
      times: 12,
    });
    const { pr, marker } = await goodPullRequest(repo);
    await deliverOk(stack, pr.labeledDelivery());

    await waitForReport(fault, pr, pr.headSha);
    expect(injected.hits).toBe(12);
    const body = await expectOneReport(fault, pr, pr.headSha, { conclusion: 'neutral' });
    expect(body).toMatch(GOOD_REPORT);
    await expectNothingLeftBehind(fault, [marker]);
  });

  it('is retried when a clone fails once, and reports as if nothing happened', async () => {
    const { stack } = fault;
    const repo = 'clone-fault';
    const injected = stack.sim.injectFault({
      route: `GET /octo-org/${repo}.git/info/refs`,
      kind: 'error',
      status: 500,
    });
    const { pr, marker } = await goodPullRequest(repo);
    await deliverOk(stack, pr.labeledDelivery());

    await waitForReport(fault, pr, pr.headSha);
    expect(injected.hits).toBe(1);
    const sides = await jobsOfPullRequest(fault.queues.evaluate, pr, ['completed']);
    expect(sides.map((j) => j.attemptsMade).sort()).toEqual([1, 2]);
    const body = await expectOneReport(fault, pr, pr.headSha, { conclusion: 'neutral' });
    expect(body).toMatch(GOOD_REPORT);
    expect(body).not.toContain('❌');
    await expectNothingLeftBehind(fault, [marker]);
  });
});

it('lets no secret reach GitHub, Redis or the logs through these faults', async () => {
  await expectNoSecretShown(fault.stack, pullRequests);
});
