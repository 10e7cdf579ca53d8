import { rm } from 'node:fs/promises';
import { COMPARE_QUEUE, EVALUATE_QUEUE } from '@evalbot/jobs';
import {
  type DemoPullRequest,
  type ManyHostsStack,
  openMlDemoPullRequest,
  startManyHostsStack,
  type WorkerHost,
  waitFor,
} from '@evalbot/local-stack';
import { isReportComment } from '@evalbot/report';
import { fakeTrainer, processesInside } from '@evalbot/test-utils';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeFakeModelDir } from './fake-model.ts';

// evalbot as four machines on one: Redis, the gateway and two worker hosts, each in a network
// namespace of its own on a bridge, the GitHub stand-in on the bridge. The worker hosts share no
// disk (each has its own HOME, cache and work directories, and sandbox uids): what one host
// computed reaches the other only through Redis, and a host cut off from the network mid-training
// loses its job to the other, as a machine that fails in production would.

type PullRequest = DemoPullRequest & { installationId: number };

let stack: ManyHostsStack;
let modelDir: string;

beforeAll(async () => {
  modelDir = await makeFakeModelDir({ accuracy: 0.9, loss: 0.3 });
  stack = await startManyHostsStack({
    workerHosts: [
      { name: 'host-a', workers: 1, sandboxUids: '61000-61049' },
      { name: 'host-b', workers: 0, sandboxUids: '62000-62049' },
    ],
    // A lost host's job runs elsewhere within about 2 s + 1 s (see docs/operations.md).
    workerEnv: { WORKER_LOCK_DURATION_MS: '2000', WORKER_STALLED_INTERVAL_MS: '1000' },
  });
}, 120_000);

afterAll(async () => {
  await stack?.close();
  if (modelDir) await rm(modelDir, { recursive: true, force: true });
});

/** Start workers on `host` until `count` of them run. */
async function runWorkers(host: WorkerHost, count: number) {
  const alive = () => host.workers.filter((w) => w.child.exitCode === null && w.child.signalCode === null);
  while (alive().length < count) await host.addWorker();
}

function botComments(pr: PullRequest) {
  return stack.sim.comments(pr.owner, pr.repo, pr.number).filter((c) => c.user.login === stack.sim.botLogin);
}

/** The PR's final report (not the ⏳ one) once its head's check run is completed. */
function awaitReport(pr: PullRequest, timeoutMs = 90_000): Promise<string> {
  return waitFor(
    () => {
      const last = botComments(pr).at(-1);
      if (!last || !isReportComment(last.body) || last.body.includes('⏳')) return undefined;
      if (!last.body.includes(pr.headSha.slice(0, 7))) return undefined;
      const runs = stack.sim.checkRuns(pr.owner, pr.repo, pr.headSha);
      if (runs.length === 0 || runs.some((r) => r.status !== 'completed')) return undefined;
      return last.body;
    },
    { timeoutMs, intervalMs: 100, what: `the report on ${pr.repo}#${pr.number}` },
  );
}

async function deliverLabel(pr: PullRequest) {
  const answer = await stack.deliver(pr.labeledDelivery());
  expect(answer.status, answer.body).toBe(202);
}

/** Jobs the running workers of `host` completed, by queue, summed over the host (from their /metrics). */
async function completedJobs(host: WorkerHost): Promise<Record<string, number>> {
  const totals: Record<string, number> = {};
  for (const [i, url] of host.metricsUrls.entries()) {
    const worker = host.workers[i];
    if (!worker || worker.child.exitCode !== null || worker.child.signalCode !== null) continue;
    const text = await (await fetch(url)).text();
    for (const m of text.matchAll(/^evalbot_worker_jobs_total\{([^}]*)\} (\d+)/gm)) {
      const labels = m[1] ?? '';
      if (!labels.includes('outcome="completed"')) continue;
      const queue = /queue="([^"]+)"/.exec(labels)?.[1] ?? '';
      totals[queue] = (totals[queue] ?? 0) + Number(m[2]);
    }
  }
  return totals;
}

function delta(after: Record<string, number>, before: Record<string, number>, queue: string): number {
  return (after[queue] ?? 0) - (before[queue] ?? 0);
}

type Counts = Map<WorkerHost, Record<string, number>>;

async function countsOf(hosts: WorkerHost[]): Promise<Counts> {
  return new Map(await Promise.all(hosts.map(async (h) => [h, await completedJobs(h)] as const)));
}

/**
 * Once `compares` comparisons more than at `before` have completed (the report is published
 * just before its compare job completes): the jobs each host completed since, by queue.
 */
async function completedSince(before: Counts, compares: number) {
  const hosts = [...before.keys()];
  const after = await waitFor(
    async () => {
      const now = await countsOf(hosts);
      const done = hosts.reduce(
        (sum, h) => sum + delta(now.get(h) ?? {}, before.get(h) ?? {}, COMPARE_QUEUE),
        0,
      );
      return done >= compares ? now : undefined;
    },
    { timeoutMs: 30_000, intervalMs: 100, what: `${compares} compare jobs to complete` },
  );
  const of = (h: WorkerHost, queue: string) => delta(after.get(h) ?? {}, before.get(h) ?? {}, queue);
  return {
    evaluated: (h: WorkerHost) => of(h, EVALUATE_QUEUE),
    compared: (h: WorkerHost) => of(h, COMPARE_QUEUE),
  };
}

/** The job directories on `host`'s disk in which a `demo.py` runs: its trainings now. */
async function trainingDirs(host: WorkerHost): Promise<string[]> {
  const trainings = (await processesInside(host.root)).filter(
    (p) => p.cwd !== host.root && p.cmdline.includes('demo.py'),
  );
  return [...new Set(trainings.map((p) => p.cwd))];
}

describe('evalbot across several hosts', { timeout: 180_000 }, () => {
  it('reuses a base result computed on one host on another host that shares no disk with it', async () => {
    const hostA = stack.host('host-a');
    const hostB = stack.host('host-b');
    const first = await openMlDemoPullRequest(stack.sim, {
      owner: 'hosts',
      repo: 'shared-base',
      sourceDir: modelDir,
      headFiles: { 'demo.py': fakeTrainer({ accuracy: 0.92, loss: 0.25 }) },
    });
    // Only host A has a worker: it trains both sides.
    await deliverLabel(first);
    const firstReport = await awaitReport(first);
    expect(firstReport).not.toContain('reused from cache (not trained again)');

    // Host A leaves; host B, with an empty cache of its own, takes the next PR on the same base.
    const [workerA] = hostA.workers;
    await workerA?.stop();
    await runWorkers(hostB, 1);
    const second = await openMlDemoPullRequest(stack.sim, {
      besides: first,
      branch: 'lower-loss',
      sourceDir: modelDir,
      headFiles: { 'demo.py': fakeTrainer({ accuracy: 0.93, loss: 0.2 }) },
    });
    const before = await countsOf([hostB]);
    await deliverLabel(second);
    const secondReport = await awaitReport(second);
    expect(secondReport).toContain('♻️ reused from cache (not trained again)');
    expect(secondReport).toMatch(/accuracy[^\n]*90\.00%[^\n]*93\.00%/);
    // Host B ran both side jobs (one of them a reuse) and the comparison.
    const done = await completedSince(before, 1);
    expect(done.evaluated(hostB)).toBe(2);
    expect(done.compared(hostB)).toBe(1);
    expect(botComments(second)).toHaveLength(1);
  });

  it('evaluates each PR exactly once with workers on two hosts, and both hosts take work', async () => {
    const hostA = stack.host('host-a');
    const hostB = stack.host('host-b');
    await Promise.all([runWorkers(hostA, 1), runWorkers(hostB, 1)]);
    const prs: PullRequest[] = [];
    for (const n of [1, 2, 3]) {
      prs.push(
        await openMlDemoPullRequest(stack.sim, {
          owner: 'hosts',
          repo: `once-${n}`,
          sourceDir: modelDir,
          headFiles: { 'demo.py': fakeTrainer({ accuracy: 0.91, loss: 0.28, sleepSeconds: 1 }) },
        }),
      );
    }
    const before = await countsOf([hostA, hostB]);
    for (const pr of prs) await deliverLabel(pr);
    for (const pr of prs) await awaitReport(pr);
    const done = await completedSince(before, 3);

    for (const pr of prs) expect(botComments(pr)).toHaveLength(1);
    // 3 PRs on 3 repositories: 6 side jobs and 3 comparisons in all, none done twice.
    expect(done.evaluated(hostA) + done.evaluated(hostB)).toBe(6);
    expect(done.compared(hostA) + done.compared(hostB)).toBe(3);
    expect(done.evaluated(hostA)).toBeGreaterThan(0);
    expect(done.evaluated(hostB)).toBeGreaterThan(0);
  });

  it('finishes on the other host when a host is cut off from the network mid-training, with one comment', async () => {
    const hostA = stack.host('host-a');
    const hostB = stack.host('host-b');
    await Promise.all([runWorkers(hostA, 1), runWorkers(hostB, 1)]);
    // Both sides "train" 6 s: with one worker per host, each host takes one side.
    const pr = await openMlDemoPullRequest(stack.sim, {
      owner: 'hosts',
      repo: 'cut-off',
      sourceDir: modelDir,
      baseFiles: { 'demo.py': fakeTrainer({ accuracy: 0.9, loss: 0.3, sleepSeconds: 6 }) },
      headFiles: { 'demo.py': fakeTrainer({ accuracy: 0.95, loss: 0.1, sleepSeconds: 6 }) },
    });
    const before = await countsOf([hostB]);
    await deliverLabel(pr);
    await waitFor(async () => (await trainingDirs(hostA)).length > 0, {
      timeoutMs: 60_000,
      intervalMs: 50,
      what: 'a training to start on host A',
    });
    await hostA.host.cutOff();
    // Host B trains its own side, then host A's once A's job lock (2 s) lapsed and a stalled
    // check (every 1 s) handed it back: seconds later — or, when A was cut while holding the
    // per-PR publishing lock (posting the ⏳ comment), once that lock's 60 s TTL ran out.
    const trainedOnB = new Set<string>();
    await waitFor(
      async () => {
        for (const dir of await trainingDirs(hostB)) trainedOnB.add(dir);
        return trainedOnB.size >= 2;
      },
      { timeoutMs: 90_000, intervalMs: 50, what: "host A's side to train on host B" },
    );

    const report = await awaitReport(pr, 60_000);
    expect(report).toMatch(/accuracy[^\n]*90\.00%[^\n]*95\.00%/);
    expect(botComments(pr)).toHaveLength(1);
    // Host B ran its own side, host A's side again, and the comparison.
    const done = await completedSince(before, 1);
    expect(done.evaluated(hostB)).toBe(2);
    expect(done.compared(hostB)).toBe(1);
  });
});
