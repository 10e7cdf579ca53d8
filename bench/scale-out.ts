import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { type LocalStack, openMlDemoPullRequest, startLocalStack, waitFor } from '@evalbot/local-stack';
import { deliverAndAwaitReport, finalReport, headline, loggedSides } from './await-report.ts';
import type { BenchContext } from './bench-context.ts';
import { busyShare, cpuMs, machineCpuTicks } from './process-cpu.ts';
import { type BenchPullRequest, labeledDelivery } from './pull-requests.ts';
import { runScaleAcrossHosts, sleepyModel } from './scale-hosts.ts';
import { type SectionResult, type TargetResult, table, targetsTable } from './section.ts';
import { count, median, ratio, seconds } from './stats.ts';

const AUTHOR = 'mona';
/** `BENCH_SCALE_WORKERS=1,8` measures only those (the target needs 1 and 8); `BENCH_SCALE_HOSTS=0` skips the part across hosts. */
const WORKER_COUNTS = (process.env.BENCH_SCALE_WORKERS ?? '1,2,4,8').split(',').map(Number);

interface ScaleRun {
  workers: number;
  ms: number;
  /** Per PR, from its delivery to its report. */
  latenciesMs: number[];
  writes: number;
  commentCreations: number;
  /** Share of the machine's CPU that was busy during the run (every process, this one included). */
  cpuBusy: number;
  /** CPU seconds used during the run by the workers (with the git and python they ran) and by this process (the stand-in, with its git http-backend). */
  cpuSeconds: { workers: number; standIn: number };
  /** Medians over the side jobs, as the workers logged them. */
  sideStagesMs: { clone: number; setup: number; run: number };
}

/** Writes the stand-in received since `since` (its request log index): all, and comment creations. */
function writesSince(stack: LocalStack, since: number): { writes: number; commentCreations: number } {
  const requests = stack.sim.requests.slice(since);
  const writes = requests.filter(
    (r) => r.surface === 'api' && r.method !== 'GET' && r.method !== 'HEAD' && r.path.startsWith('/repos/'),
  );
  return {
    writes: writes.length,
    commentCreations: writes.filter((r) => r.method === 'POST' && /\/issues\/\d+\/comments$/.test(r.path))
      .length,
  };
}

/**
 * Many PRs at once with 1, 2, 4 and 8 worker processes, on a model whose training sleeps a
 * fixed time: throughput and how close it comes to linear scaling. Each PR is its own
 * repository (so no base result is shared): 2 side jobs + 1 compare job each.
 */
export async function runScaleOut(ctx: BenchContext): Promise<SectionResult> {
  const prCount = ctx.quick ? 12 : 40;
  const sleepSeconds = ctx.quick ? 1 : 2;
  const modelDir = join(ctx.tmpDir, 'sleepy-model');
  await mkdir(modelDir, { recursive: true });
  await writeFile(join(modelDir, 'demo.py'), sleepyModel(sleepSeconds, 0.9));
  await writeFile(join(modelDir, 'requirements.txt'), '# nothing to install\n');
  const logDir = join(ctx.tmpDir, 'scale-logs');
  await mkdir(logDir, { recursive: true });
  const stack = await startLocalStack({
    workers: 0,
    cacheDir: join(ctx.tmpDir, 'scale-cache'),
    logDir,
    workerEnv: ctx.pipEnv,
    runtime: 'bundle',
  });
  const openPullRequest = async (owner: string): Promise<BenchPullRequest> => {
    const pr = await openMlDemoPullRequest(stack.sim, {
      owner,
      repo: 'sleepy-model',
      author: AUTHOR,
      sourceDir: modelDir,
      headFiles: { 'demo.py': sleepyModel(sleepSeconds, 0.91) },
    });
    return { ...pr, author: AUTHOR };
  };
  const runs: ScaleRun[] = [];
  try {
    // Unmeasured: builds the (empty) cached environment every later job reuses.
    ctx.log('scale: warm-up PR (builds the shared empty environment)');
    const warmWorker = await stack.addWorker();
    const warm = await openPullRequest('scale-warm-up');
    await deliverAndAwaitReport(stack, warm, labeledDelivery(stack.sim, warm), 5 * 60_000);
    await warmWorker.stop();

    for (const workers of WORKER_COUNTS) {
      const prs: BenchPullRequest[] = [];
      // A few at a time: each is several git commands in the stand-in.
      for (let i = 1; i <= prCount; i += 4) {
        const batch = [i, i + 1, i + 2, i + 3].filter((n) => n <= prCount);
        prs.push(...(await Promise.all(batch.map((n) => openPullRequest(`scale-${workers}-${n}`)))));
      }
      const started = await Promise.all(Array.from({ length: workers }, () => stack.addWorker()));
      ctx.log(`scale: ${prCount} PRs, ${workers} worker(s)`);
      const requestsBefore = stack.sim.requests.length;
      const cpuBefore = await machineCpuTicks();
      const processCpu = async () => {
        const workerMs = await Promise.all(started.map((w) => cpuMs(w.pid, { children: true })));
        return {
          workers: workerMs.reduce((a, b) => a + b, 0),
          standIn: await cpuMs(process.pid, { children: true }),
        };
      };
      const processCpuBefore = await processCpu();
      const t0 = performance.now();
      const sentAt = new Map<BenchPullRequest, number>();
      const deliveryIds: string[] = [];
      for (const pr of prs) {
        sentAt.set(pr, performance.now());
        const delivery = labeledDelivery(stack.sim, pr);
        deliveryIds.push(delivery.id);
        const answer = await stack.deliver(delivery);
        if (answer.status !== 202) throw new Error(`delivery not queued: ${answer.status} ${answer.body}`);
      }
      const doneAt = new Map<BenchPullRequest, number>();
      await waitFor(
        () => {
          for (const pr of prs) {
            if (doneAt.has(pr)) continue;
            const report = finalReport(stack.sim, pr);
            if (!report) continue;
            if (/\bfail/i.test(headline(report)))
              throw new Error(`an evaluation failed: ${headline(report)}`);
            doneAt.set(pr, performance.now());
          }
          return doneAt.size === prs.length;
        },
        { timeoutMs: 20 * 60_000, intervalMs: 50, what: `${prCount} reports with ${workers} worker(s)` },
      );
      const ms = Math.max(...doneAt.values()) - t0;
      const cpuBusy = busyShare(cpuBefore, await machineCpuTicks());
      const processCpuAfter = await processCpu();
      const sides = (await Promise.all(deliveryIds.map((id) => loggedSides(logDir, id, 2)))).flat();
      const stageMedian = (name: string) => median(sides.map((side) => side.durations[name] ?? Number.NaN));
      runs.push({
        sideStagesMs: { clone: stageMedian('clone'), setup: stageMedian('setup'), run: stageMedian('run') },
        cpuBusy,
        cpuSeconds: {
          workers: (processCpuAfter.workers - processCpuBefore.workers) / 1000,
          standIn: (processCpuAfter.standIn - processCpuBefore.standIn) / 1000,
        },
        workers,
        ms,
        latenciesMs: prs.map((pr) => (doneAt.get(pr) ?? 0) - (sentAt.get(pr) ?? 0)),
        ...writesSince(stack, requestsBefore),
      });
      ctx.log(`scale: ${workers} worker(s): ${seconds(ms)}, ${(prCount / (ms / 60_000)).toFixed(1)} PRs/min`);
      await Promise.all(started.map((w) => w.stop()));
    }
  } finally {
    await stack.close();
  }
  const section = summarize(runs, prCount, sleepSeconds);
  const one = runs.find((r) => r.workers === 1);
  const across = await scaleAcrossHosts(ctx, {
    oneWorkerPerMinute: one ? prCount / (one.ms / 60_000) : Number.NaN,
    prCount,
    sleepSeconds,
  });
  return {
    ...section,
    markdown: `${section.markdown}\n\n${across.markdown}`,
    targets: [...section.targets, ...across.targets],
  };
}

/** The hosts part needs root (network namespaces); without it the section says so. */
async function scaleAcrossHosts(ctx: BenchContext, opts: Parameters<typeof runScaleAcrossHosts>[1]) {
  if (process.env.BENCH_SCALE_HOSTS === '0' || process.getuid?.() !== 0) {
    return {
      markdown:
        '### Across hosts\n\nNot measured in this run: it needs root (network namespaces), and `BENCH_SCALE_HOSTS=0` skips it.',
      targets: [],
    };
  }
  return runScaleAcrossHosts(ctx, opts);
}

function summarize(runs: ScaleRun[], prCount: number, sleepSeconds: number): SectionResult {
  const perMinute = (run: ScaleRun) => prCount / (run.ms / 60_000);
  const one = runs.find((r) => r.workers === 1);
  const base = one ? perMinute(one) : Number.NaN;
  const rows = runs.map((run) => {
    const ideal = base * run.workers;
    const writesPerWorker = run.writes / run.workers;
    return [
      run.workers,
      seconds(run.ms),
      perMinute(run).toFixed(1),
      ideal.toFixed(1),
      ratio(perMinute(run) / ideal),
      seconds(median(run.latenciesMs)),
      `${count(run.writes)} (${count(run.commentCreations)} comment creations)`,
      seconds(Math.max(writesPerWorker * 1000, (run.commentCreations / run.workers) * 3000)),
      seconds(((2 * prCount) / run.workers) * sleepSeconds * 1000),
      `${Math.round(run.cpuBusy * 100)} %`,
      `${run.cpuSeconds.workers.toFixed(1)} / ${run.cpuSeconds.standIn.toFixed(1)} s`,
      `${seconds(run.sideStagesMs.clone)} / ${seconds(run.sideStagesMs.setup)} / ${seconds(run.sideStagesMs.run)}`,
    ];
  });
  const eight = runs.find((r) => r.workers === 8);
  const eightRatio = eight ? perMinute(eight) / (base * 8) : Number.NaN;
  const targets: TargetResult[] = [
    {
      name: 'throughput with 8 workers / 8 × throughput with 1',
      measured: ratio(eightRatio),
      target: '≥ 0.90×',
      met: eightRatio >= 0.9,
    },
  ];
  const markdown = [
    `${prCount} PRs labeled at once (each its own repository, so each is 2 side jobs + 1 compare job and no base result is shared), on a model whose \`demo.py\` sleeps ${sleepSeconds} s and writes \`result.txt\`, with an empty \`requirements.txt\` (its cached environment is built by an unmeasured warm-up PR). Time from the first delivery to the last report comment. Worker processes as \`startLocalStack\` starts them (the bundles \`pnpm build\` writes, as the images run them; \`WORKER_CONCURRENCY=1\`), all on this machine's cores.`,
    '',
    table(
      [
        'workers',
        'all reports after',
        'PRs/min',
        'linear (N × 1 worker)',
        'of linear',
        'median delivery → report',
        'GitHub writes',
        'write-pacing floor per worker',
        'sleep floor per worker',
        'machine CPU busy',
        'CPU used: workers (+ their git, python) / stand-in (+ its git)',
        'side job median: clone / setup / run',
      ],
      rows,
    ),
    '',
    "*Write-pacing floor*: each worker process paces its GitHub writes as `@octokit/plugin-throttling` does by default — one write per second, and one comment creation per 3 s — shared by all its jobs; the column is the writes (or comment creations × 3 s) per worker. *Sleep floor*: the side jobs' sleeping per worker (2 sides per PR, one evaluation at a time per worker). *Machine CPU busy*: all cores, every process (the stand-in serving git and the API runs in the bench process), from `/proc/stat`.",
    '',
    targetsTable(targets),
  ].join('\n');
  return { id: 'scale', title: 'Scale-out', markdown, targets };
}
