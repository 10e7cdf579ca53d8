import { mkdir, readdir, readFile, readlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import {
  type ManyHostsStack,
  openMlDemoPullRequest,
  type ServiceProcess,
  startManyHostsStack,
  type WorkerHost,
  waitFor,
} from '@evalbot/local-stack';
import { finalReport, headline } from './await-report.ts';
import type { BenchContext } from './bench-context.ts';
import { type BenchPullRequest, labeledDelivery } from './pull-requests.ts';
import { type TargetResult, table } from './section.ts';
import { ratio, seconds } from './stats.ts';

const AUTHOR = 'mona';
/** BullMQ's and the worker's defaults (WORKER_LOCK_DURATION_MS, WORKER_STALLED_INTERVAL_MS). */
const LOCK_MS = 30_000;
const STALLED_MS = 30_000;

/**
 * A model repository whose training only sleeps, then writes its metrics: the benches measure
 * evalbot's scaling, not the machine's cores.
 */
export function sleepyModel(sleepSeconds: number, accuracy: number): string {
  return [
    'import json',
    'import time',
    '',
    `time.sleep(${sleepSeconds})`,
    'with open("result.txt", "w") as f:',
    `    json.dump({"loss": 0.25, "accuracy": ${accuracy}}, f)`,
    '',
  ].join('\n');
}

interface HostsRun {
  label: string;
  workers: number;
  ms: number;
}

/**
 * The scale-out measurement across simulated hosts (network namespaces on a bridge, each
 * worker host with its own disk state): 1 host × 8 workers against 2 hosts × 4, and the time
 * from a worker host's loss (its link cut mid-training) to its job running on the other host.
 */
export async function runScaleAcrossHosts(
  ctx: BenchContext,
  opts: { oneWorkerPerMinute: number; prCount: number; sleepSeconds: number },
): Promise<{ markdown: string; targets: TargetResult[] }> {
  const { prCount, sleepSeconds } = opts;
  const modelDir = join(ctx.tmpDir, 'hosts-model');
  await mkdir(modelDir, { recursive: true });
  await writeFile(join(modelDir, 'demo.py'), sleepyModel(sleepSeconds, 0.9));
  await writeFile(join(modelDir, 'requirements.txt'), '# nothing to install\n');
  const logDir = join(ctx.tmpDir, 'hosts-logs');
  await mkdir(logDir, { recursive: true });
  const stack = await startManyHostsStack({
    workerHosts: [
      { name: 'host-a', workers: 0, sandboxUids: '61000-61099' },
      { name: 'host-b', workers: 0, sandboxUids: '62000-62099' },
    ],
    workerEnv: ctx.pipEnv,
    logDir,
    runtime: 'bundle',
  });
  const hostA = stack.host('host-a');
  const hostB = stack.host('host-b');
  let opened = 0;
  const openPullRequest = async (owner: string, headSleep = sleepSeconds, baseSleep?: number) => {
    opened += 1;
    const pr = await openMlDemoPullRequest(stack.sim, {
      owner,
      repo: `hosts-model-${opened}`,
      author: AUTHOR,
      sourceDir: modelDir,
      headFiles: { 'demo.py': sleepyModel(headSleep, 0.91) },
      ...(baseSleep !== undefined ? { baseFiles: { 'demo.py': sleepyModel(baseSleep, 0.9) } } : {}),
    });
    return { ...pr, author: AUTHOR };
  };
  const started: ServiceProcess[] = [];
  const addWorkers = async (host: WorkerHost, count: number, env: Record<string, string> = {}) => {
    const workers = await Promise.all(Array.from({ length: count }, () => host.addWorker(env)));
    started.push(...workers);
    return workers;
  };
  const stopAll = async () => {
    await Promise.all(started.splice(0).map((w) => w.stop()));
  };
  try {
    // Unmeasured: each host builds its own (empty) cached environment: they share no disk.
    for (const host of [hostA, hostB]) {
      ctx.log(`scale across hosts: warm-up PR on ${host.name}`);
      await addWorkers(host, 1);
      const warm = await openPullRequest(`warm-${host.name}`);
      await deliverAll(stack, [warm], 5 * 60_000);
      await stopAll();
    }

    const runs: HostsRun[] = [];
    for (const layout of [
      { label: '1 host × 8 workers', perHost: [8, 0] },
      { label: '2 hosts × 4 workers', perHost: [4, 4] },
    ]) {
      const prs: BenchPullRequest[] = [];
      for (let i = 0; i < prCount; i += 4) {
        const batch = Math.min(4, prCount - i);
        prs.push(...(await Promise.all(Array.from({ length: batch }, () => openPullRequest('hosts-scale')))));
      }
      await addWorkers(hostA, layout.perHost[0] ?? 0);
      await addWorkers(hostB, layout.perHost[1] ?? 0);
      ctx.log(`scale across hosts: ${prCount} PRs, ${layout.label}`);
      const ms = await deliverAll(stack, prs, 20 * 60_000);
      runs.push({ label: layout.label, workers: 8, ms });
      ctx.log(`scale across hosts: ${layout.label}: ${seconds(ms)}`);
      await stopAll();
    }

    // Host loss: host A trains both sides of a PR, host B (idle) waits; A's link goes down.
    ctx.log('scale across hosts: host A cut off mid-training, waiting for host B to take its jobs');
    await addWorkers(hostA, 1, { WORKER_CONCURRENCY: '2' });
    const long = await openPullRequest('hosts-failover', 600, 600);
    const answer = await stack.deliver(labeledDelivery(stack.sim, long));
    if (answer.status !== 202) throw new Error(`delivery not queued: ${answer.status} ${answer.body}`);
    await waitFor(async () => (await trainingsOn(hostA)) >= 2, {
      timeoutMs: 5 * 60_000,
      intervalMs: 50,
      what: 'host A to train both sides',
    });
    await addWorkers(hostB, 1, { WORKER_CONCURRENCY: '2' });
    const cutAt = performance.now();
    await hostA.host.cutOff();
    const takenAt = await waitFor(
      async () => ((await runningJobs(hostB)) > 0 ? performance.now() : undefined),
      {
        timeoutMs: 5 * 60_000,
        intervalMs: 50,
        what: "host B to take host A's jobs",
      },
    );
    const trainingAt = await waitFor(
      async () => ((await trainingsOn(hostB)) > 0 ? performance.now() : undefined),
      { timeoutMs: 5 * 60_000, intervalMs: 50, what: "host A's training to run on host B" },
    );
    return summarize(runs, opts, { takenMs: takenAt - cutAt, trainingMs: trainingAt - cutAt });
  } finally {
    // Host A's workers, cut off from Redis, cannot hand their jobs back on SIGTERM.
    await hostA.host.killAll();
    await stopAll().catch(() => {});
    await stack.close();
  }
}

/** Deliver every PR's label at once and wait for all their reports; the time to the last one. */
async function deliverAll(
  stack: ManyHostsStack,
  prs: BenchPullRequest[],
  timeoutMs: number,
): Promise<number> {
  const t0 = performance.now();
  for (const pr of prs) {
    const answer = await stack.deliver(labeledDelivery(stack.sim, pr));
    if (answer.status !== 202) throw new Error(`delivery not queued: ${answer.status} ${answer.body}`);
  }
  const done = new Set<BenchPullRequest>();
  await waitFor(
    () => {
      for (const pr of prs) {
        if (done.has(pr)) continue;
        const report = finalReport(stack.sim, pr);
        if (!report) continue;
        if (/\bfail/i.test(headline(report))) throw new Error(`an evaluation failed: ${headline(report)}`);
        done.add(pr);
      }
      return done.size === prs.length;
    },
    { timeoutMs, intervalMs: 50, what: `${prs.length} reports` },
  );
  return performance.now() - t0;
}

/** Evaluations `host`'s workers run now (`evalbot_worker_running_jobs`, evaluate queue). */
async function runningJobs(host: WorkerHost): Promise<number> {
  let total = 0;
  for (const [i, url] of host.metricsUrls.entries()) {
    const worker = host.workers[i];
    if (!worker || worker.child.exitCode !== null || worker.child.signalCode !== null) continue;
    const text = await fetch(url, { signal: AbortSignal.timeout(2000) })
      .then((r) => r.text())
      .catch(() => '');
    for (const m of text.matchAll(/^evalbot_worker_running_jobs\{queue="evalbot-evaluate"\} (\d+)/gm)) {
      total += Number(m[1]);
    }
  }
  return total;
}

/** Trainings (`demo.py` processes) running in job directories on `host`'s disk. */
async function trainingsOn(host: WorkerHost): Promise<number> {
  let found = 0;
  for (const entry of await readdir('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (!(await readlink(`/proc/${entry}/cwd`)).startsWith(`${host.root}/`)) continue;
      if ((await readFile(`/proc/${entry}/cmdline`, 'utf8')).includes('demo.py')) found += 1;
    } catch {
      // The process ended while we looked.
    }
  }
  return found;
}

function summarize(
  runs: HostsRun[],
  opts: { oneWorkerPerMinute: number; prCount: number; sleepSeconds: number },
  failover: { takenMs: number; trainingMs: number },
): { markdown: string; targets: TargetResult[] } {
  const perMinute = (run: HostsRun) => opts.prCount / (run.ms / 60_000);
  const linear = opts.oneWorkerPerMinute * 8;
  const rows = runs.map((run) => [
    run.label,
    seconds(run.ms),
    perMinute(run).toFixed(1),
    Number.isFinite(linear) ? linear.toFixed(1) : '—',
    ratio(perMinute(run) / linear),
  ]);
  const single = runs.find((r) => r.label.startsWith('1 host'));
  const split = runs.find((r) => r.label.startsWith('2 hosts'));
  const splitVsSingle = single && split ? perMinute(split) / perMinute(single) : Number.NaN;
  // Lock + one check interval, and 5 s for the stalled check's job to be taken and this bench to see it.
  const bound = LOCK_MS + STALLED_MS + 5000;
  const targets: TargetResult[] = [
    {
      name: 'throughput 2 hosts × 4 workers / 1 host × 8 workers',
      measured: ratio(splitVsSingle),
      target: '≥ 0.90×',
      met: splitVsSingle >= 0.9,
    },
    {
      name: 'worker host cut off → its job taken by another host (default lock and stalled check)',
      measured: seconds(failover.takenMs),
      target: `≤ ${seconds(bound)} (lock + stalled-check interval + 5 s)`,
      met: failover.takenMs <= bound,
    },
  ];
  const markdown = [
    '### Across hosts',
    '',
    `The same load (${opts.prCount} PRs at once, each its own repository, \`demo.py\` sleeping ${opts.sleepSeconds} s) on simulated machines: Redis, the gateway and two worker hosts each in a network namespace of its own on one bridge, the stand-in on the bridge (\`startManyHostsStack\`); each worker host has its own \`HOME\`, cache and work directories and sandbox uids, and built its own cached environment in an unmeasured warm-up. Eight worker processes in both layouts (\`WORKER_CONCURRENCY=1\`), on the same 2 cores. *Linear*: 8 × the 1-worker throughput above.`,
    '',
    table(['layout', 'all reports after', 'PRs/min', 'linear (8 × 1 worker)', 'of linear'], rows),
    '',
    `**Host loss.** Host A (one worker, \`WORKER_CONCURRENCY=2\`) trains both sides of a PR whose training sleeps 600 s; host B (the same, idle) waits; A's link to the bridge goes down. With the defaults (\`WORKER_LOCK_DURATION_MS=${LOCK_MS}\`, \`WORKER_STALLED_INTERVAL_MS=${STALLED_MS}\`) host B took the jobs ${seconds(failover.takenMs)} after the cut, and the training ran on B ${seconds(failover.trainingMs)} after it (clone and cached environment in between). A lost host's job is retried once its lock has lapsed (the lock is renewed every half lock duration, so it lapses ½–1 lock duration after the loss) at the next stalled-job check of any worker: at most about lock + check interval (${seconds(LOCK_MS + STALLED_MS)} by default; one sample here, anywhere from ½ lock to lock + interval in general); the many-hosts test runs with 2 s + 1 s.`,
  ].join('\n');
  return { markdown, targets };
}
