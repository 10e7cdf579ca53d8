import { join } from 'node:path';
import { NODE_FLAGS } from '@evalbot/app-bundle';
import { freePort, REPO_ROOT, startLocalStack } from '@evalbot/local-stack';
import type { BenchContext } from './bench-context.ts';
import { type GatewayMemory, runIngestion } from './ingestion.ts';
import { startNodeService } from './node-service.ts';
import { readRss, sampleRss } from './process-rss.ts';
import { type SectionResult, type TargetResult, table, targetsTable } from './section.ts';
import { runSlowClients } from './slow-clients.ts';
import { count, megabytes, seconds } from './stats.ts';

const MiB = 2 ** 20;
const IDLE_SAMPLE_MS = 5_000;

/** RSS of a bare `node --import tsx` process: what every evalbot process pays before its own code. */
async function tsxBaselineBytes(ctx: BenchContext): Promise<number> {
  const port = await freePort();
  // The bare app is the smallest server the bench has; its RSS idle is Node + tsx + Fastify.
  const service = await startNodeService({
    name: 'bare Fastify app',
    nodeArgs: ['--import', 'tsx', join(REPO_ROOT, 'bench/bare-app.ts'), String(port), '/'],
    cwd: REPO_ROOT,
    env: { PATH: ctx.env.PATH, HOME: ctx.env.HOME },
    readyUrl: `http://127.0.0.1:${port}/readyz`,
    logFile: join(ctx.tmpDir, 'memory-bare.log'),
  });
  try {
    await new Promise((resolve) => setTimeout(resolve, 1000));
    return (await readRss(service.pid)) ?? 0;
  } finally {
    await service.stop();
  }
}

/**
 * The gateway's peak RSS under the ingestion load (from the ingestion run when it ran in the
 * same invocation, else a short one here) and an idle worker's RSS.
 */
export async function runMemory(
  ctx: BenchContext,
  known: { gatewayMemory?: GatewayMemory; workerIdleAfterWorkBytes?: number },
): Promise<SectionResult> {
  let gateway = known.gatewayMemory;
  if (!gateway) {
    ctx.log('memory: a short ingestion run to load the gateway');
    gateway = (await runIngestion({ ...ctx, quick: true })).gatewayMemory;
  }

  ctx.log('memory: an idle worker');
  const stack = await startLocalStack({
    workers: 0,
    cacheDir: join(ctx.tmpDir, 'memory-cache'),
    workerEnv: ctx.pipEnv,
    runtime: 'bundle',
  });
  let idleWorker: { peakBytes: number; lastBytes: number };
  try {
    const worker = await stack.addWorker();
    const sampler = sampleRss(worker.pid, 100);
    await new Promise((resolve) => setTimeout(resolve, IDLE_SAMPLE_MS));
    idleWorker = await sampler.stop();
  } finally {
    await stack.close();
  }
  const baseline = await tsxBaselineBytes(ctx);
  ctx.log('memory: 50 slow clients, each announcing a 25 MB delivery');
  const slow = await runSlowClients(ctx, 50);
  // What the large-body slots allow: each held body, and its copy while it is concatenated.
  const slowBound = slow.idleBytes + slow.maxLargeBodies * 2 * 25 * MiB;

  const targets: TargetResult[] = [
    {
      name: 'gateway peak RSS under the ingestion load',
      measured: megabytes(gateway.peakBytes),
      target: '≤ 150 MiB',
      met: gateway.peakBytes <= 150 * MiB,
    },
    {
      name: `gateway peak RSS with ${slow.clients} slow 25 MB clients`,
      measured: megabytes(slow.peakBytes),
      target: `≤ ${megabytes(slowBound)} (idle + ${slow.maxLargeBodies} × 2 × 25 MiB)`,
      met: slow.peakBytes <= slowBound,
    },
    {
      name: 'idle worker RSS',
      measured: megabytes(idleWorker.peakBytes),
      target: '≤ 200 MiB',
      met: idleWorker.peakBytes <= 200 * MiB,
    },
  ];
  const rows: string[][] = [
    ['gateway, idle after start', megabytes(gateway.idleBytes)],
    [`gateway, peak under ${gateway.under}`, megabytes(gateway.peakBytes)],
    [`worker, idle: peak over ${IDLE_SAMPLE_MS / 1000} s after it is ready`, megabytes(idleWorker.peakBytes)],
  ];
  if (known.workerIdleAfterWorkBytes) {
    rows.push([
      'worker, right after its end-to-end evaluations (largest)',
      megabytes(known.workerIdleAfterWorkBytes),
    ]);
  }
  const answered = Object.entries(slow.answers)
    .map(([status, n]) => `${status === '0' ? 'closed unanswered' : status} ×${count(n)}`)
    .join(', ');
  rows.push(
    [
      `gateway, peak with ${slow.clients} slow clients each sending all but 1 KiB of a 25 MB delivery, then a byte every 5 s (answers: ${answered}; the last cut off after ${seconds(slow.lastClosedMs)})`,
      megabytes(slow.peakBytes),
    ],
    ['for scale: `bench/bare-app.ts` idle (Node 20 + tsx + Fastify)', megabytes(baseline)],
  );
  const markdown = [
    `VmRSS from \`/proc/<pid>/status\`, sampled every 100 ms, of the Node process itself, run as its image runs it: the bundle \`pnpm build\` writes (gateway: \`node ${NODE_FLAGS.gateway.join(' ')} apps/gateway/dist/main.js\`; worker: \`node apps/worker/dist/main.js\`). 1 MiB = 2^20 bytes.`,
    '',
    table(['process', 'RSS'], rows),
    '',
    targetsTable(targets),
  ].join('\n');
  return { id: 'memory', title: 'Memory', markdown, targets };
}
