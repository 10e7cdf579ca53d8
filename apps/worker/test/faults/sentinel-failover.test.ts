import { chmod, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import {
  COMMAND_QUEUE,
  COMPARE_QUEUE,
  DELIVERY_QUEUE,
  EVALUATE_QUEUE,
  redisTargetOptions,
} from '@evalbot/jobs';
import { startLocalStack, waitFor } from '@evalbot/local-stack';
import { processesWithCmdline, type SentinelGroup, startSentinelGroup } from '@evalbot/test-utils';
import { Queue } from 'bullmq';
import { afterAll, beforeAll, expect, it } from 'vitest';
import {
  deliverOk,
  type FaultStack,
  GOOD_REPORT,
  openGoodPullRequest,
  waitForReport,
} from './fault-stack.ts';
import { expectNothingLeftBehind, expectOneReport } from './invariants.ts';

// Redis as a Sentinel group (a master, a replica, three Sentinels, all real redis-server
// processes) under a real stack: the master is killed mid-training, the Sentinels promote the
// replica, and evalbot follows them without a restart.

let group: SentinelGroup;
let fault: FaultStack;
let cacheDir: string;

beforeAll(async () => {
  group = await startSentinelGroup();
  cacheDir = await mkdtemp(join(tmpdir(), 'evalbot-sentinel-cache-'));
  await chmod(cacheDir, 0o755);
  const stack = await startLocalStack({
    redisUrl: group.url,
    redisSentinel: { sentinels: group.sentinels, master: group.master },
    workers: 2,
    cacheDir,
    logLevel: 'info',
  });
  const connection = {
    url: group.url,
    ...redisTargetOptions({
      url: group.url,
      sentinel: { sentinels: group.sentinelAddresses, name: group.master },
    }),
    maxRetriesPerRequest: null,
  };
  const queue = (name: string) => new Queue(name, { connection, prefix: stack.prefix });
  const queues = {
    evaluate: queue(EVALUATE_QUEUE),
    compare: queue(COMPARE_QUEUE),
    command: queue(COMMAND_QUEUE),
    delivery: queue(DELIVERY_QUEUE),
  };
  fault = {
    stack,
    queues,
    stackRoot: dirname(stack.workDirs[0] as string),
    close: async () => {
      await Promise.all(Object.values(queues).map((q) => q.close().catch(() => {})));
      await stack.close();
    },
  };
}, 120_000);

afterAll(async () => {
  await fault?.close();
  await group?.close();
  if (cacheDir) await rm(cacheDir, { recursive: true, force: true });
});

it('finishes a training across a failover with one comment, and takes deliveries again once a replica is promoted', {
  timeout: 150_000,
}, async () => {
  const { stack } = fault;
  const first = await openGoodPullRequest(stack, 'trained-across-failover', { trainSeconds: 4 });
  const second = await openGoodPullRequest(stack, 'delivered-during-failover');
  await deliverOk(stack, first.pr.labeledDelivery());
  await waitFor(
    async () => (await processesWithCmdline(first.marker)).some((p) => p.cmdline.includes('demo.py')),
    {
      timeoutMs: 60_000,
      intervalMs: 25,
      what: 'the training to start',
    },
  );

  const { switched } = await group.watchFailover();
  const lostPort = await group.killMaster();
  // GitHub does not retry a failed delivery: the 503 is what tells it (and the recovery) to redeliver.
  const delivery = second.pr.labeledDelivery();
  const during = await stack.deliver(delivery);
  expect(during.status, during.body).toBe(503);

  const promotedPort = await switched;
  expect(promotedPort).not.toBe(lostPort);
  expect(await group.masterPort()).toBe(promotedPort);
  // The gateway reconnects to the promoted master within its reconnect back-off; until then a
  // redelivery still gets 503, never anything else.
  const answers: number[] = [];
  await waitFor(
    async () => {
      const answer = await stack.deliver(delivery);
      answers.push(answer.status);
      return answer.status === 202;
    },
    { timeoutMs: 15_000, intervalMs: 100, what: 'the gateway to accept the redelivery after the failover' },
  );
  expect(new Set(answers.slice(0, -1))).toEqual(new Set(answers.length > 1 ? [503] : []));
  // From then on deliveries are taken at once (this one finds the PR's evaluation already queued).
  const next = await stack.deliver(second.pr.labeledDelivery());
  expect(next.status, next.body).toBeLessThan(300);

  for (const { pr } of [first, second]) {
    await waitForReport(fault, pr, pr.headSha, { timeoutMs: 90_000 });
    expect(await expectOneReport(fault, pr, pr.headSha, { conclusion: 'neutral' })).toMatch(GOOD_REPORT);
  }
  await expectNothingLeftBehind(fault, [first.marker, second.marker]);
});
