// `node --import tsx apps/worker/bench/redis-job-memory.ts` (beside the worker, whose bullmq it uses): the Redis memory one finished evaluation keeps
// (a compare job and its two evaluate jobs: hashes, logs, finished-set entries), with the job
// options of packages/jobs, for a quiet, a chatty and a heavy training, and for the worst
// a metrics file can make evalbot keep (every cap of metrics-from-literal.ts reached, in every
// one of the most repeats .evalbot.yml allows), with the result cache's copy of each side. The
// figures behind "Sizing" in docs/operations.md. Uses REDIS_URL, else starts a private redis-server.

import {
  MAX_HISTORY_POINTS,
  MAX_HISTORY_SERIES,
  MAX_METRICS,
  MAX_METRICS_BYTES,
  MAX_NAME_LENGTH,
} from '@evalbot/evaluator';
import {
  buildEvaluationFlow,
  COMPARE_QUEUE,
  EVALUATE_QUEUE,
  JOB_LOG_LIMITS,
  type PullRequestRef,
  type SideOutcome,
} from '@evalbot/jobs';
import { startRedis } from '@evalbot/local-stack';
import { repoConfigSchema } from '@evalbot/repo-config';
import { FlowProducer, type Job, QueueEvents, Worker } from 'bullmq';
import { Redis } from 'ioredis';
import { ResultCache } from '../src/result-cache.ts';

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
  /** Runs (repeats) per side; default 1. */
  runs?: number;
  /** Every run as large as the caps allow: names of control characters, the longest numbers. */
  capped?: boolean;
  /** Evaluations measured, when fewer than BENCH_EVALUATIONS keep the bench's Redis small. */
  evaluations?: number;
}

/** The most repeats `.evalbot.yml` allows (each a run stored with the side's outcome). */
const MAX_REPEATS = repoConfigSchema.shape.repeats.unwrap().maxValue ?? 1;

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
    name: `heavy (300+ lines cut at 1,000 chars, 64 KiB tail, 4×${MAX_HISTORY_POINTS} points: a long training, sampled)`,
    logLines: 5_000,
    lineChars: 5_000,
    tailBytes: 64 * 1024,
    history: [4, MAX_HISTORY_POINTS],
  },
  {
    name: `true worst case (64 KiB tail; ${MAX_REPEATS} repeats, each ${MAX_METRICS} metrics and ${MAX_HISTORY_SERIES}×${MAX_HISTORY_POINTS} points, names of ${MAX_NAME_LENGTH} control characters)`,
    logLines: 5_000,
    lineChars: 5_000,
    tailBytes: 64 * 1024,
    history: [MAX_HISTORY_SERIES, MAX_HISTORY_POINTS],
    runs: MAX_REPEATS,
    capped: true,
    evaluations: 5,
  },
];

/** A name as long as kept, each character stored as a 6-character `\u0001` escape in JSON. */
const worstName = (prefix: string) => prefix.padEnd(MAX_NAME_LENGTH, '\u0001');
/** The longest JSON form of a double (25 characters: `-0.0000012345678901234567`). */
const WORST_NUMBER = -1.2345678901234567e-6;

function cappedRun(seed: number): SideOutcome['runs'][number] {
  const metrics: Record<string, number> = {};
  for (let k = 0; k < MAX_METRICS; k++) metrics[worstName(`m${k}`)] = WORST_NUMBER;
  const history: Record<string, number[]> = {};
  const historyEpochs: Record<string, number> = {};
  for (let k = 0; k < MAX_HISTORY_SERIES; k++) {
    history[worstName(`h${k}`)] = Array.from({ length: MAX_HISTORY_POINTS }, () => WORST_NUMBER);
    historyEpochs[worstName(`h${k}`)] = MAX_METRICS_BYTES;
  }
  return { seed, metrics, history, historyEpochs, durationMs: 180_433 };
}

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
    runs: s.capped
      ? Array.from({ length: s.runs ?? 1 }, (_, seed) => cappedRun(seed))
      : [{ seed: 0, metrics: { accuracy: 0.9152, loss: 0.2931 }, history, durationMs: 180_433 }],
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
): Promise<{ perEvaluation: number; evaluateJob: number; logs: number; resultCache: number }> {
  const prefix = `bench-redis-${Date.now()}`;
  const client = new Redis(redisUrl);
  const connection = { url: redisUrl, maxRetriesPerRequest: null };
  const events = new QueueEvents(COMPARE_QUEUE, { connection, prefix });
  await events.waitUntilReady();
  const flows = new FlowProducer({ connection, prefix });
  const evaluations = Math.min(s.evaluations ?? EVALUATIONS, EVALUATIONS);
  let left = evaluations;
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
  for (let n = 0; n < evaluations; n++) {
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
  // A successful side is also kept in the result cache (for BASE_CACHE_TTL_HOURS), once per content.
  const cache = new ResultCache(client, prefix, 3600);
  let resultCache = 0;
  for (const side of ['head', 'base']) {
    const stored = outcome(s, side.padEnd(40, 'c'));
    if (!stored.ok) continue;
    await cache.put(side, stored);
    resultCache += Number(await client.memory('USAGE', `${prefix}:result:${side}`, 'SAMPLES', '0'));
  }
  await flows.close();
  await events.close();
  const keys = await client.keys(`${prefix}:*`);
  for (let i = 0; i < keys.length; i += 500) await client.del(...keys.slice(i, i + 500));
  client.disconnect();
  return { perEvaluation: (after - before - streamBytes) / evaluations, evaluateJob, logs, resultCache };
}

async function usedMemory(client: Redis): Promise<number> {
  const info = await client.info('memory');
  return Number(/used_memory:(\d+)/.exec(info)?.[1]);
}

const own = process.env.REDIS_URL ? undefined : await startRedis();
const redisUrl = process.env.REDIS_URL ?? own?.url ?? '';
const kb = (bytes: number) =>
  bytes >= 1024 * 1024 ? `${(bytes / 1024 / 1024).toFixed(1)} MiB` : `${(bytes / 1024).toFixed(0)} KiB`;
try {
  process.stdout.write(
    `| training | per evaluation (3 jobs) | one evaluate job: hash | its log | result cache (2 sides) |\n|---|---|---|---|---|\n`,
  );
  for (const s of SCENARIOS) {
    const m = await measure(redisUrl, s);
    process.stdout.write(
      `| ${s.name} | ${kb(m.perEvaluation)} | ${kb(m.evaluateJob)} | ${kb(m.logs)} | ${kb(m.resultCache)} |\n`,
    );
  }
} finally {
  await own?.close();
}
process.exit(0);
