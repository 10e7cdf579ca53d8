import { describe, expect, it } from 'vitest';
import {
  checkRunsOf,
  deliverOk,
  openTinyPullRequest,
  routedOf,
  type TinyPullRequest,
  tinyConfig,
  useFaultStack,
  waitForReport,
} from './fault-stack.ts';
import { expectNothingLeftBehind, expectOneReport } from './invariants.ts';

// GitHub delivers webhooks at least once and in no particular order. Whatever order the
// deliveries of a PR arrive in, its comment must end on its newest head, with one check run
// for that head and none left in progress. Each scenario has its own PR; heads are pushed with
// `sim.addCommit`, and `updated_at` is set explicitly (GitHub's has one-second resolution).

const fault = useFaultStack({ workers: 2 });

/** GitHub's timestamp format: ISO 8601 without milliseconds. */
function isoTime(ms: number): string {
  return new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

const startedAt = Math.floor(Date.now() / 1000) * 1000 - 60_000;

/** The tiny model's config for one head: each head trains with its own learning rate. */
function headConfig(learningRate: number) {
  return { '.evalbot.yml': tinyConfig({ env: { TINY_LEARNING_RATE: learningRate } }) };
}

/** A PR whose first head trains with learning rate 0.004 (accuracy 94 %). */
function openPullRequest(repo: string): Promise<TinyPullRequest> {
  return openTinyPullRequest(fault.stack, { repo, headFiles: headConfig(0.004) });
}

/** Push a new head to the PR's branch; returns its SHA. */
function push(pr: TinyPullRequest, learningRate: number): Promise<string> {
  return fault.stack.sim.addCommit({
    owner: pr.owner,
    repo: pr.repo,
    branch: 'tune-learning-rate',
    files: headConfig(learningRate),
    message: `Try learning rate ${learningRate}`,
  });
}

/** A `pull_request` delivery about `headSha`, as of `secondsLater` after the scenario's start. */
function pullRequestDelivery(
  pr: TinyPullRequest,
  action: 'labeled' | 'synchronize',
  headSha: string,
  secondsLater: number,
) {
  return pr.delivery({
    event: 'pull_request',
    action,
    sender: 'mona',
    ...(action === 'labeled' ? { label: 'evaluate' } : {}),
    pullRequest: {
      number: pr.number,
      headSha,
      baseSha: pr.baseSha,
      updatedAt: isoTime(startedAt + secondsLater * 1000),
    },
  });
}

/** Add the evaluate label in the stand-in (deliveries built afterwards list it). */
function addLabel(pr: TinyPullRequest) {
  fault.stack.sim.addLabels({ owner: pr.owner, repo: pr.repo, number: pr.number, labels: ['evaluate'] });
}

describe('out-of-order and repeated deliveries', { timeout: 120_000 }, () => {
  it('a labeled delivery that arrives after the newer head’s synchronize does not revert the PR', async () => {
    const { stack } = fault;
    const pr = await openPullRequest('late-labeled');
    addLabel(pr);
    const labeled = pullRequestDelivery(pr, 'labeled', pr.headSha, 0);
    const newHead = await push(pr, 0.005);
    const synchronize = pullRequestDelivery(pr, 'synchronize', newHead, 5);

    expect(await deliverOk(stack, synchronize)).toMatchObject({ status: 202, body: { status: 'recorded' } });
    expect(await routedOf(fault, synchronize)).toMatchObject({ status: 'queued' });
    await deliverOk(stack, labeled);
    expect(await routedOf(fault, labeled)).toMatchObject({ status: 'stale' });

    await waitForReport(fault, pr, newHead);
    const body = await expectOneReport(fault, pr, newHead, { conclusion: 'neutral' });
    expect(body).toMatch(/accuracy ↑ \| 93\.\d+% \| 95\.\d+%/);
    expect(checkRunsOf(stack, pr, pr.headSha)).toEqual([]);
    await expectNothingLeftBehind(fault, []);
  });

  it('a label and a push of the same second end on the push’s head when the push arrives first', async () => {
    const { stack } = fault;
    const pr = await openPullRequest('same-second');
    addLabel(pr);
    const newHead = await push(pr, 0.005);
    // The label event saw the old head; the push of the same second names the new one.
    const labeled = pullRequestDelivery(pr, 'labeled', pr.headSha, 3);
    const synchronize = pullRequestDelivery(pr, 'synchronize', newHead, 3);

    await deliverOk(stack, synchronize);
    await deliverOk(stack, labeled);
    expect(await routedOf(fault, labeled)).toMatchObject({ status: 'stale' });

    await waitForReport(fault, pr, newHead);
    const body = await expectOneReport(fault, pr, newHead, { conclusion: 'neutral' });
    expect(body).toMatch(/accuracy ↑ \| 93\.\d+% \| 95\.\d+%/);
    expect(checkRunsOf(stack, pr, pr.headSha)).toEqual([]);
    await expectNothingLeftBehind(fault, []);
  });

  it('a redelivered older synchronize (same delivery id) after a newer one is recorded once and not routed again', async () => {
    const { stack } = fault;
    const pr = await openPullRequest('redelivered-synchronize');
    addLabel(pr);
    await deliverOk(stack, pullRequestDelivery(pr, 'labeled', pr.headSha, 0));
    const second = await push(pr, 0.005);
    const olderSynchronize = pullRequestDelivery(pr, 'synchronize', second, 5);
    await deliverOk(stack, olderSynchronize);
    const newest = await push(pr, 0.006);
    await deliverOk(stack, pullRequestDelivery(pr, 'synchronize', newest, 10));

    // Recorded again under the same delivery id: one job in the log, routed once.
    await routedOf(fault, olderSynchronize);
    expect(await deliverOk(stack, olderSynchronize)).toMatchObject({
      status: 202,
      body: { status: 'recorded', deliveryId: olderSynchronize.id },
    });
    expect(await routedOf(fault, olderSynchronize)).toMatchObject({ status: 'queued' });

    await waitForReport(fault, pr, newest);
    const body = await expectOneReport(fault, pr, newest, { conclusion: 'neutral' });
    expect(body).toMatch(/accuracy ↑ \| 93\.\d+% \| 96\.\d+%/);
    await expectNothingLeftBehind(fault, []);
  });

  it('an older synchronize under a new delivery id after a newer one is ignored as stale', async () => {
    const { stack } = fault;
    const pr = await openPullRequest('stale-synchronize');
    addLabel(pr);
    await deliverOk(stack, pullRequestDelivery(pr, 'labeled', pr.headSha, 0));
    const second = await push(pr, 0.005);
    const olderSynchronize = pullRequestDelivery(pr, 'synchronize', second, 5);
    const newest = await push(pr, 0.006);
    const newerSynchronize = pullRequestDelivery(pr, 'synchronize', newest, 10);
    await deliverOk(stack, newerSynchronize);
    // The older one arrives after the newer one was routed (routing is asynchronous: sent back
    // to back, the router may take the older first, queue it, and cancel it for the newer).
    expect(await routedOf(fault, newerSynchronize)).toMatchObject({ status: 'queued' });

    await deliverOk(stack, olderSynchronize);
    expect(await routedOf(fault, olderSynchronize)).toMatchObject({ status: 'stale' });

    await waitForReport(fault, pr, newest);
    const body = await expectOneReport(fault, pr, newest, { conclusion: 'neutral' });
    expect(body).toMatch(/accuracy ↑ \| 93\.\d+% \| 96\.\d+%/);
    expect(checkRunsOf(stack, pr, second)).toEqual([]);
    await expectNothingLeftBehind(fault, []);
  });
});
