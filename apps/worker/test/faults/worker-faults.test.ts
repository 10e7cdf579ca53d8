import { readlink } from 'node:fs/promises';
import { basename, dirname } from 'node:path';
import { waitFor } from '@evalbot/local-stack';
import { processesWithCmdline } from '@evalbot/test-utils';
import { describe, expect, it } from 'vitest';
import {
  deliverOk,
  GOOD_REPORT,
  openGoodPullRequest,
  type TinyPullRequest,
  useFaultStack,
  waitForReport,
} from './fault-stack.ts';
import { expectNoSecretShown, expectNothingLeftBehind, expectOneReport } from './invariants.ts';

// A worker killed mid-training and Redis restarted mid-run, in a real stack (two worker
// processes, the gateway, Redis with AOF, the GitHub stand-in): each time the PR must end with
// one current comment, the compare job completed once, one completed check run for the head,
// and nothing left running or on disk. One after another: each disturbs the whole stack.

const fault = useFaultStack({ workers: 2 });
const pullRequests: TinyPullRequest[] = [];

/** The head's training process, once it runs: its pid and the job directory it runs in. */
async function trainingOf(marker: string) {
  return waitFor(
    async () => {
      for (const proc of await processesWithCmdline(marker)) {
        if (!proc.cmdline.includes('demo.py')) continue;
        const cwd = await readlink(`/proc/${proc.pid}/cwd`).catch(() => '');
        const jobDir = dirname(cwd);
        const workerPid = Number(/^evalbot-(\d+)-[0-9a-f]+$/.exec(basename(jobDir))?.[1]);
        if (workerPid) return { pid: proc.pid, jobDir, workDir: dirname(jobDir), workerPid };
      }
      return undefined;
    },
    { timeoutMs: 60_000, intervalMs: 25, what: `training with marker ${marker} to start` },
  );
}

// Under load a scenario (retry back-off, a second training) can take longer than the default.
describe('a PR evaluation', { timeout: 150_000 }, () => {
  it('survives kill -9 of the worker training it: the training dies with it, the job is retried elsewhere, a replacement cleans up', async () => {
    const { stack } = fault;
    const { pr, marker } = await openGoodPullRequest(stack, 'killed-worker', { trainSeconds: 6 });
    pullRequests.push(pr);
    await deliverOk(stack, pr.labeledDelivery());

    const training = await trainingOf(marker);
    // Freeze the training so that, however loaded the machine, it is still mid-run when its
    // worker dies (it finished first once, on a machine at load 9). SIGKILL ends it all the same.
    process.kill(training.pid, 'SIGSTOP');
    const victim = stack.workers.find((w) => w.pid === training.workerPid);
    expect(victim, `worker ${training.workerPid}`).toBeDefined();
    expect(await victim?.stop('SIGKILL')).toBe('SIGKILL');
    // The sandbox dies with its worker (bubblewrap's --die-with-parent ends the step's pid
    // namespace): no orphan trains on, not even a stopped one.
    await waitFor(async () => (await processesWithCmdline(marker)).length === 0, {
      timeoutMs: 10_000,
      intervalMs: 25,
      what: 'the dead worker’s training to end',
    });

    // A replacement on the same work directory removes the job directory at start.
    const replacement = await stack.addWorker({ EVALBOT_WORK_DIR: training.workDir });
    expect(replacement.output()).toContain('cleaned up after a worker that died mid-job');

    await waitForReport(fault, pr, pr.headSha);
    const body = await expectOneReport(fault, pr, pr.headSha, { conclusion: 'neutral' });
    expect(body).toMatch(GOOD_REPORT);
    await expectNothingLeftBehind(fault, [marker]);
  });

  it('survives Redis stopping mid-training and starting again from its append-only file', async () => {
    const { stack } = fault;
    const redis = stack.redis;
    if (!redis) throw new Error('the stack runs its own Redis');
    const { pr, marker } = await openGoodPullRequest(stack, 'redis-restart', { trainSeconds: 3 });
    pullRequests.push(pr);
    await deliverOk(stack, pr.labeledDelivery());

    await trainingOf(marker);
    await redis.stop();
    // The training ends (and is cleaned up) while Redis is away: its result waits for Redis.
    await waitFor(async () => (await processesWithCmdline(marker)).length === 0, {
      timeoutMs: 30_000,
      intervalMs: 100,
      what: 'the training to finish while Redis is down',
    });
    await redis.start();

    await waitForReport(fault, pr, pr.headSha);
    const body = await expectOneReport(fault, pr, pr.headSha, { conclusion: 'neutral' });
    expect(body).toMatch(GOOD_REPORT);
    await expectNothingLeftBehind(fault, [marker]);
  });
});

it('lets no secret reach GitHub, Redis or the logs through these faults', async () => {
  await expectNoSecretShown(fault.stack, pullRequests);
});
