import {
  buildEvaluationFlow,
  COMMAND_QUEUE,
  DELIVERY_QUEUE,
  type DeliveryJob,
  EVALUATE_QUEUE,
  type EvaluateCommandJob,
  type EvaluateJob,
  type PullRequestRef,
  QUEUE_NAMES,
} from '@evalbot/jobs';
import { pullRequest as pullRequestFixture } from '@evalbot/test-utils';
import { FlowProducer, Queue, Worker } from 'bullmq';
import type { Redis } from 'ioredis';

export const HEAD_SHA = 'abc1234'.padEnd(40, '0');
export const BASE_SHA = 'def5678'.padEnd(40, '0');

/** The PR the dashboard's tests show, octo/mnist#12, changed by `overrides`. */
export function pullRequest(overrides: Partial<PullRequestRef> = {}): PullRequestRef {
  return pullRequestFixture({
    owner: 'octo',
    repo: 'mnist',
    number: 12,
    headSha: HEAD_SHA,
    baseSha: BASE_SHA,
    ...overrides,
  });
}

const request = {
  trigger: 'labeled' as const,
  deliveryId: 'delivery-1',
  sender: 'mona',
  requestedAt: '2026-01-01T00:00:00.000Z',
};

export function evaluateJob(side: 'head' | 'base', pr = pullRequest()): EvaluateJob {
  const sha = side === 'head' ? pr.headSha : pr.baseSha;
  return { pr, request, side, sha, fetchRefs: [sha] };
}

/** Enqueue one evaluation flow as the gateway does: compare ← evaluate head + base. */
export async function addEvaluationFlow(connection: Redis, prefix: string, pr = pullRequest()) {
  const flows = new FlowProducer({ connection, prefix });
  try {
    return await flows.add(
      buildEvaluationFlow({ pr, request, parentJobId: `${pr.owner}-${pr.repo}-${pr.number}`, prefix }),
    );
  } finally {
    await flows.close();
  }
}

/** Enqueue one `/evaluate` comment command. */
export async function addCommandJob(connection: Redis, prefix: string) {
  const queue = new Queue(COMMAND_QUEUE, { connection, prefix });
  try {
    const { installationId, owner, repo, number, repoHtmlUrl, cloneUrl } = pullRequest();
    const job: EvaluateCommandJob = {
      pr: { installationId, owner, repo, number, repoHtmlUrl, cloneUrl },
      request: { ...request, trigger: 'comment', commentId: 99, sender: 'hubot' },
    };
    return await queue.add('evaluate-command', job);
  } finally {
    await queue.close();
  }
}

/** Record one labeled delivery in the delivery log, as the gateway does, and route it as the router would. */
export async function addRoutedDelivery(connection: Redis, prefix: string) {
  const queue = new Queue(DELIVERY_QUEUE, { connection, prefix });
  const worker = new Worker(DELIVERY_QUEUE, async () => ({ status: 'queued', jobId: 'eval-1' }), {
    connection,
    prefix,
    autorun: false,
  });
  try {
    const job: DeliveryJob = {
      deliveryId: 'f2a1c3d0-1111-4222-8333-944455556666',
      event: 'pull_request',
      action: 'labeled',
      receivedAt: request.requestedAt,
      work: { kind: 'evaluate', pr: pullRequest(), request },
    };
    await queue.add('pull_request', job, { jobId: job.deliveryId });
    const finished = new Promise((resolve) => worker.once('completed', resolve));
    worker.run();
    await finished;
  } finally {
    await worker.close();
    await queue.close();
  }
}

/**
 * Run one evaluate job through a real worker that writes `logLines` to the job's log and then
 * fails with `reason`, as the worker does when infrastructure breaks on the last attempt.
 * `connection` must have `maxRetriesPerRequest: null`, as BullMQ workers require.
 */
export async function addFailedJob(
  connection: Redis,
  prefix: string,
  opts: { logLines: string[]; reason: string },
): Promise<string> {
  const queue = new Queue(EVALUATE_QUEUE, { connection, prefix });
  const worker = new Worker(
    EVALUATE_QUEUE,
    async (job) => {
      await job.updateProgress({ stage: 'setup', message: 'installing requirements', percent: 30 });
      for (const line of opts.logLines) await job.log(line);
      throw new Error(opts.reason);
    },
    { connection, prefix, autorun: false },
  );
  try {
    const failed = new Promise<void>((resolve) => worker.once('failed', () => resolve()));
    const job = await queue.add('evaluate-head', evaluateJob('head'), { attempts: 1 });
    void worker.run();
    await failed;
    return job.id ?? '';
  } finally {
    await worker.close();
    await queue.close();
  }
}

/** Remove every key the test's prefix created. */
export async function removeQueues(connection: Redis, prefix: string): Promise<void> {
  for (const name of QUEUE_NAMES) {
    const queue = new Queue(name, { connection, prefix });
    await queue.obliterate({ force: true });
    await queue.close();
  }
}
