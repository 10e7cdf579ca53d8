import { describe, expect, it } from 'vitest';
import {
  CANCELLED_HEAD,
  COMPARE_QUEUE,
  type DeliveryJob,
  type DeliveryWork,
  readPullRequestHead,
  routeRecordedDelivery,
} from '../src/index.ts';
import { HEAD, pullRequest, request, useJobProducer } from './fixtures.ts';

const t = useJobProducer();
const PR_KEY = 'octo-org/hello-ml#7';
const NEWER = 'c'.repeat(40);

function recorded(work: DeliveryWork, deliveryId = crypto.randomUUID()): DeliveryJob {
  return {
    deliveryId,
    event: 'pull_request',
    action: work.kind === 'evaluate' ? work.request.trigger : 'closed',
    receivedAt: new Date().toISOString(),
    work,
  };
}

const labeled = (headSha: string, updatedAt: string) =>
  recorded({
    kind: 'evaluate',
    pr: pullRequest({ headSha, updatedAt }),
    request: request({ trigger: 'labeled' }),
  });
const pushed = (headSha: string, updatedAt: string) =>
  recorded({
    kind: 'evaluate',
    pr: pullRequest({ headSha, updatedAt }),
    request: request({ trigger: 'synchronize' }),
  });

async function queuedHeads(): Promise<string[]> {
  const jobs = await t.producer.queues[COMPARE_QUEUE].getJobs(['waiting-children', 'waiting']);
  return jobs.map((j) => (j.data as { pr: { headSha: string } }).pr.headSha);
}

describe('routeRecordedDelivery', () => {
  it('queues the flow of a recorded label and answers with its job', async () => {
    const routed = await routeRecordedDelivery(t.producer, labeled(HEAD, '2026-03-01T12:00:00Z'));
    expect(routed).toMatchObject({ status: 'queued', evaluationKey: expect.stringContaining(HEAD) });
    expect(await queuedHeads()).toEqual([HEAD]);
  });

  it('acts on a delivery id once, however often it is routed', async () => {
    const job = labeled(HEAD, '2026-03-01T12:00:00Z');
    const first = await routeRecordedDelivery(t.producer, job);
    const again = await routeRecordedDelivery(t.producer, job);
    expect(again).toEqual({
      status: 'duplicate',
      deliveryId: job.deliveryId,
      reason: 'this delivery was already handled',
      first,
    });
    expect(await queuedHeads()).toHaveLength(1);
  });

  it.each([
    ['push first', true],
    ['label first', false],
  ])('ends on the push head when a label and a push share a second (%s)', async (_, pushFirst) => {
    const second = '2026-03-01T12:00:05Z';
    const label = labeled(HEAD, second);
    const push = pushed(NEWER, second);
    const order = pushFirst ? [push, label] : [label, push];
    for (const job of order) await routeRecordedDelivery(t.producer, job);
    expect(await readPullRequestHead(t.connection, t.prefix, PR_KEY)).toBe(NEWER);
    expect(await queuedHeads()).toEqual([NEWER]);
  });

  it('ends on the newest head when a push arrives before an older label', async () => {
    await routeRecordedDelivery(t.producer, pushed(NEWER, '2026-03-01T12:00:09Z'));
    const late = await routeRecordedDelivery(t.producer, labeled(HEAD, '2026-03-01T12:00:03Z'));
    expect(late).toMatchObject({ status: 'stale' });
    expect(await queuedHeads()).toEqual([NEWER]);
  });

  it('cancels the PR when it is closed in the same second as a push that came first', async () => {
    const second = '2026-03-01T12:00:05Z';
    await routeRecordedDelivery(t.producer, pushed(NEWER, second));
    const closed = await routeRecordedDelivery(
      t.producer,
      recorded({
        kind: 'cancel',
        pr: { owner: 'octo-org', repo: 'hello-ml', number: 7 },
        reason: 'closed',
        updatedAt: second,
      }),
    );
    expect(closed).toMatchObject({ status: 'cancelled' });
    expect(await readPullRequestHead(t.connection, t.prefix, PR_KEY)).toBe(CANCELLED_HEAD);
  });
});
