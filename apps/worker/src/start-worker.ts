import { mkdir } from 'node:fs/promises';
import type { Server } from 'node:http';
import { join } from 'node:path';
import {
  assertSandboxCanReach,
  createSandbox,
  reapStaleWorkDirs,
  resolvePython,
  type Sandbox,
  SandboxUnavailableError,
} from '@evalbot/evaluator';
import { createGitHubApp, type GitHubApp } from '@evalbot/github';
import {
  COMMAND_QUEUE,
  COMPARE_QUEUE,
  createJobProducer,
  createRedisConnection,
  EVALUATE_QUEUE,
  pullRequestEventSchema,
  redisKeys,
} from '@evalbot/jobs';
import type { Logger } from '@evalbot/logger';
import { DelayedError, type Job, type Processor, Worker } from 'bullmq';
import { BaseResultCache } from './base-result-cache.ts';
import type { WorkerConfig } from './env.ts';
import { compareAndPublish } from './processors/compare-and-publish.ts';
import { evaluateCommand } from './processors/evaluate-command.ts';
import { evaluateSide } from './processors/evaluate-side.ts';
import type { JobContext } from './processors/job-context.ts';
import {
  CheckRunOutput,
  CommentOutput,
  type PublishOutput,
  PullRequestGate,
  ReportPublisher,
} from './publishing/index.ts';
import { requeueOrRethrow } from './requeue-or-rethrow.ts';
import { RunningEvaluations } from './running-evaluations.ts';
import { WorkerMetrics } from './worker-metrics.ts';

export interface StartWorkerOptions {
  config: WorkerConfig;
  logger: Logger;
  /** Injected in tests (e.g. without write pacing); one per process otherwise. */
  github?: GitHubApp;
  now?: () => Date;
}

export interface RunningWorker {
  metrics: WorkerMetrics;
  metricsServer: Server | undefined;
  /** Stop taking jobs, hand running evaluations back to the queue, close connections. */
  close(): Promise<void>;
}

function contextOf(job: Job): JobContext {
  return {
    id: job.id ?? 'unknown',
    enqueuedAt: job.timestamp,
    log: (line) => job.log(line),
    updateProgress: (progress) => job.updateProgress(progress),
  };
}

/**
 * Start one worker process: a BullMQ Worker per queue (evaluate, compare, command), the
 * subscription that stops superseded or cancelled training at once, the reaper of dead
 * workers' leftovers, and /metrics.
 */
export async function startWorker(opts: StartWorkerOptions): Promise<RunningWorker> {
  const { config, logger } = opts;
  const now = opts.now ?? (() => new Date());
  // Before anything else: a worker that cannot contain PR code must not take a job.
  const sandbox = await openSandbox(config, logger);
  await mkdir(config.workDir, { recursive: true });
  const reaped = await reapStaleWorkDirs(config.workDir);
  if (reaped.removed.length > 0 || reaped.killedGroups.length > 0) {
    logger.warn(reaped, 'cleaned up after a worker that died mid-job');
  }

  // Before any job is taken: a worker that cannot serve its metrics must not start and strand a job.
  const metrics = new WorkerMetrics();
  const metricsServer =
    config.metricsPort > 0 ? await metrics.listen(config.metricsPort, config.metricsHost) : undefined;

  const connectionLogger = logger.child({ component: 'redis' });
  const redis = createRedisConnection(config.redisUrl, {
    role: 'worker',
    connectionName: 'evalbot-worker',
    logger: connectionLogger,
  });
  const subscriber = createRedisConnection(config.redisUrl, {
    role: 'worker',
    connectionName: 'evalbot-worker-events',
  });
  const producer = createJobProducer({ connection: redis, prefix: config.prefix });
  const github =
    opts.github ??
    createGitHubApp({
      appId: config.app.appId,
      privateKey: config.app.privateKey,
      apiUrl: config.apiUrl,
      logger: logger.child({ component: 'github' }),
    });
  const running = new RunningEvaluations();
  // Where an evaluation is shown, in the order each moment is written: the comment first, so
  // whoever sees the check run finished finds the comment already updated.
  const outputs: PublishOutput[] = [
    new CommentOutput(),
    new CheckRunOutput({ redis, prefix: config.prefix }),
  ];
  const publisher = new ReportPublisher({
    github,
    gate: new PullRequestGate({ redis, prefix: config.prefix }),
    outputs,
    now,
  });
  const baseCache = new BaseResultCache(redis, config.prefix, config.baseCacheTtlSeconds);
  const channel = redisKeys.pullRequestEvents(config.prefix);
  subscriber.on('message', (received: string, message: string) => {
    if (received !== channel) return;
    try {
      const event = pullRequestEventSchema.parse(JSON.parse(message));
      const stopped = running.applyPullRequestState(event.prKey, event.headSha, event.reason);
      if (stopped > 0) logger.info({ ...event, stopped }, 'stopped evaluations the PR no longer wants');
    } catch (error) {
      logger.warn({ err: error }, 'ignored a malformed PR event');
    }
  });
  await subscriber.subscribe(channel);

  const evaluate: Processor = (job, token) =>
    evaluateSide(job.data, contextOf(job), {
      config,
      redis,
      github,
      running,
      baseCache,
      publisher,
      metrics,
      logger,
      sandbox,
      evaluationIdOf: () => job.parent?.id ?? (job.id ?? '').replace(/-(head|base)$/, ''),
    }).catch((error: unknown) => requeueOrRethrow(job, token, error));
  const compare: Processor = (job, token) =>
    compareAndPublish(
      job.data,
      {
        ...contextOf(job),
        childrenValues: () => job.getChildrenValues(),
        ignoredChildrenFailures: () => job.getIgnoredChildrenFailures(),
      },
      {
        redis,
        prefix: config.prefix,
        evaluateLabel: config.evaluateLabel,
        github,
        publisher,
        metrics,
        logger,
        now,
        secrets: [config.app.privateKey],
      },
    ).catch((error: unknown) => requeueOrRethrow(job, token, error));
  const command: Processor = (job, token) =>
    evaluateCommand(job.data, contextOf(job), { github, producer, logger }).catch((error: unknown) =>
      requeueOrRethrow(job, token, error),
    );

  const workerOptions = {
    connection: { url: config.redisUrl, maxRetriesPerRequest: null },
    prefix: config.prefix,
    lockDuration: config.lockDurationMs,
    // A job whose worker died is retried; twice more before it is failed as stalled.
    maxStalledCount: 2,
    stalledInterval: Math.min(30_000, config.lockDurationMs),
  };
  const workers = [
    new Worker(EVALUATE_QUEUE, evaluate, { ...workerOptions, concurrency: config.concurrency }),
    new Worker(COMPARE_QUEUE, compare, { ...workerOptions, concurrency: Math.max(2, config.concurrency) }),
    new Worker(COMMAND_QUEUE, command, { ...workerOptions, concurrency: 2 }),
  ];
  for (const worker of workers) {
    const queue = worker.name;
    worker.on('completed', () => metrics.jobs.inc({ queue, outcome: 'completed' }));
    worker.on('failed', (job, error) => {
      if (error instanceof DelayedError || error.name === 'DelayedError') return;
      metrics.jobs.inc({ queue, outcome: 'failed' });
      logger.warn({ queue, jobId: job?.id, attemptsMade: job?.attemptsMade, err: error }, 'job failed');
    });
    worker.on('error', (error) => logger.warn({ queue, err: error }, 'worker error'));
  }
  logger.info(
    { concurrency: config.concurrency, prefix: config.prefix, metricsPort: config.metricsPort },
    'worker started',
  );

  let closing: Promise<void> | undefined;
  return {
    metrics,
    metricsServer,
    close: () => {
      closing ??= (async () => {
        logger.info({ running: running.size }, 'worker stopping: handing running evaluations back');
        running.abortAll();
        await Promise.all(workers.map((w) => w.close()));
        await producer.close();
        await new Promise<void>((resolve) =>
          metricsServer ? metricsServer.close(() => resolve()) : resolve(),
        );
        subscriber.disconnect();
        redis.disconnect();
      })();
      return closing;
    },
  };
}

async function openSandbox(config: WorkerConfig, logger: Logger): Promise<Sandbox | 'unsafe-none'> {
  if (!config.sandbox) {
    logger.warn(
      "EVALBOT_UNSAFE_NO_SANDBOX is set: PR code runs WITHOUT a sandbox, as the worker's own user, with the network and the worker's files within reach. Use it only for local experiments with your own code",
    );
    return 'unsafe-none';
  }
  const sandbox = await createSandbox({
    ...config.sandbox,
    // Shared by every worker of this host (compose workers share the cache volume).
    leaseDir: join(config.cacheDir, 'sandbox-uids'),
    foreignLeaseStaleMs: 2 * config.maxTimeoutMs + 3600_000,
  });
  const python = await resolvePython(config.python, process.env);
  await assertSandboxCanReach({
    workRoot: config.workDir,
    cacheDir: config.cacheDir,
    python: python.executable,
  }).catch((error: Error) => {
    throw new SandboxUnavailableError(error.message);
  });
  logger.info({ sandbox: sandbox.description, limits: sandbox.limits }, 'PR code runs in a sandbox');
  return sandbox;
}
