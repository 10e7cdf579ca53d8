// `node --import tsx apps/worker/bench/redis-job-memory.ts` (beside the worker, whose bullmq it uses): the Redis memory one finished evaluation keeps
// (a compare job and its two evaluate jobs: hashes, logs, finished-set entries), with the job
// options of packages/jobs, for a quiet, a chatty and a worst-case training. The figures behind
// "Sizing" in docs/operations.md. Uses REDIS_URL, else starts a private redis-server.

import {
  buildEvaluationFlow,
  COMPARE_QUEUE,
  EVALUATE_QUEUE,
  JOB_LOG_LIMITS,
  type PullRequestRef,
  type SideOutcome,
} from '@evalbot/jobs';
import { startRedis } from '@evalbot/local-stack';
import { FlowProducer, type Job, QueueEvents, Worker } from 'bullmq';
import { Redis } from 'ioredis';

const EVALUATIONS = Number(process.env.BENCH_EVALUATIONS ?? 200);

interface Scenario {
  name: string;
  /** Lines each evaluate job writes to its log (Redis keeps the last JOB_LOG_LIMITS.keptLines). */
  logLines: number;
  lineChars: number;
  /** The result's log tail (the evaluator keeps at most 200 lines, 64 KiB). */
  tailBytes: number;
  /** Per-epoch history: series × epochs. */
  history: [number, number];
}

const SCENARIOS: Scenario[] = [
  {
    name: 'quiet (20 short lines, 2 KB tail, 3×10 epochs)',
    logLines: 20,
    lineChars: 80,
    tailBytes: 2_000,
    history: [3, 10],
  },
  {
    name: 'chatty (Keras progress, 300+ lines of 200 chars, 20 KB tail, 4×50 epochs)',
    logLines: 5_000,
    lineChars: 200,
    tailBytes: 20_000,
    history: [4, 50],
  },
  {
    name: 'worst case (300+ lines cut at 1,000 chars, 64 KiB tail, 4×1,000 epochs)',
    logLines: 5_000,
    lineChars: 5_000,
    tailBytes: 64 * 1024,
    history: [4, 1_000],
  },
];

function outcome(s: Scenario, sha: string): SideOutcome {
  const history: Record<string, number[]> = {};
  for (let k = 0; k < s.history[0]; k++) {
    history[`metric_${k}`] = Array.from({ length: s.history[1] }, (_, i) => Math.round(1e6 / (i + 1)) / 1e6);
  }
  return {
    ok: true,
    sha,
    durations: { clone: 812, config: 3, setup: 40_211, run: 180_433, metrics: 2 },
    logTail: 'Epoch 1/10 - 12s - loss: 0.2931 - accuracy: 0.9152\n'
      .repeat(Math.ceil(s.tailBytes / 52))
      .slice(0, s.tailBytes),
    environment: { python: '3.11.2', packages: { tensorflow: '2.17.0', keras: '3.5.0', numpy: '1.26.4' } },
    environmentReused: true,
    resultReused: false,
    runs: [{ seed: 0, metrics: { accuracy: 0.9152, loss: 0.2931 }, history, durationMs: 180_433 }],
  };
}

function cut(line: string): string {
  return line.length <= JOB_LOG_LIMITS.lineChars
    ? line
    : `${line.slice(0, JOB_LOG_LIMITS.lineChars)} … [cut]`;
}

async function measure(
  redisUrl: string,
  s: Scenario,
): Promise<{ perEvaluation: number; evaluateJob: number; logs: number }> {
  const prefix = `bench-redis-${Date.now()}`;
  const client = new Redis(redisUrl);
  const connection = { url: redisUrl, maxRetriesPerRequest: null };
  const events = new QueueEvents(COMPARE_QUEUE, { connection, prefix });
  await events.waitUntilReady();
  const flows = new FlowProducer({ connection, prefix });
  let left = EVALUATIONS;
  const done = new Promise<void>((resolve) =>
    events.on('completed', () => {
      left -= 1;
      if (left === 0) resolve();
    }),
  );
  const line = 'x'.repeat(s.lineChars);
  const evaluate = new Worker(
    EVALUATE_QUEUE,
    async (job: Job) => {
      for (let i = 0; i < Math.min(s.logLines, JOB_LOG_LIMITS.keptLines + 20); i++) await job.log(cut(line));
      return outcome(s, (job.data as { sha: string }).sha);
    },
    { connection, prefix, concurrency: 20 },
  );
  const compare = new Worker(
    COMPARE_QUEUE,
    async (job: Job) => {
      await job.log('head: ok; base: ok');
      return { status: 'published', commentId: 1_234_567_890, checkRunId: 9_876_543_210 };
    },
    { connection, prefix, concurrency: 20 },
  );
  const before = await usedMemory(client);
  for (let n = 0; n < EVALUATIONS; n++) {
    const sha = (i: number) => `${i}${n}`.padEnd(40, 'a');
    const pr: PullRequestRef = {
      installationId: 12_345_678,
      owner: 'octo-org',
      repo: 'mnist-model',
      number: n + 1,
      repoHtmlUrl: 'https://github.com/octo-org/mnist-model',
      cloneUrl: 'https://github.com/octo-org/mnist-model.git',
      headSha: sha(1),
      baseSha: sha(2),
      headRef: 'wider-layer',
      baseRef: 'main',
      fromFork: false,
      author: 'mona',
    };
    const request = {
      trigger: 'labeled' as const,
      deliveryId: `72d3162e-cc78-11e3-81ab-${String(n).padStart(12, '0')}`,
      sender: 'mona',
      requestedAt: new Date().toISOString(),
    };
    await flows.add(
      buildEvaluationFlow({ pr, request, parentJobId: `octo-org-mnist-model-${n + 1}`, prefix }),
    );
  }
  await done;
  await Promise.all([evaluate.close(), compare.close()]);
  // BullMQ's event streams are capped (10,000 entries per queue) whatever the volume: left out.
  const streams = await client.keys(`${prefix}:*:events`);
  let streamBytes = 0;
  for (const key of streams) streamBytes += Number(await client.memory('USAGE', key, 'SAMPLES', '0'));
  const after = await usedMemory(client);
  const evaluateJob = Number(
    await client.memory('USAGE', `${prefix}:${EVALUATE_QUEUE}:octo-org-mnist-model-1-head`, 'SAMPLES', '0'),
  );
  const logs = Number(
    (await client.memory(
      'USAGE',
      `${prefix}:${EVALUATE_QUEUE}:octo-org-mnist-model-1-head:logs`,
      'SAMPLES',
      '0',
    )) ?? 0,
  );
  await flows.close();
  await events.close();
  const keys = await client.keys(`${prefix}:*`);
  for (let i = 0; i < keys.length; i += 500) await client.del(...keys.slice(i, i + 500));
  client.disconnect();
  return { perEvaluation: (after - before - streamBytes) / EVALUATIONS, evaluateJob, logs };
}

async function usedMemory(client: Redis): Promise<number> {
  const info = await client.info('memory');
  return Number(/used_memory:(\d+)/.exec(info)?.[1]);
}

const own = process.env.REDIS_URL ? undefined : await startRedis();
const redisUrl = process.env.REDIS_URL ?? own?.url ?? '';
const kb = (bytes: number) => `${(bytes / 1024).toFixed(0)} KiB`;
try {
  process.stdout.write(
    `| training | per evaluation (3 jobs) | one evaluate job: hash | its log |\n|---|---|---|---|\n`,
  );
  for (const s of SCENARIOS) {
    const m = await measure(redisUrl, s);
    process.stdout.write(`| ${s.name} | ${kb(m.perEvaluation)} | ${kb(m.evaluateJob)} | ${kb(m.logs)} |\n`);
  }
} finally {
  await own?.close();
}
process.exit(0);
