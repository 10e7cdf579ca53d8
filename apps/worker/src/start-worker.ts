import { randomUUID } from 'node:crypto';
import { mkdir } from 'node:fs/promises';
import type { Server } from 'node:http';
import { hostname } from 'node:os';
import { reapStaleWorkDirs } from '@evalbot/evaluator';
import { createGitHubApp, type GitHubApp } from '@evalbot/github';
import {
  createJobProducer,
  createRedisConnection,
  type JobKind,
  jobCatalog,
  jobOptionsOf,
  poolQueueOf,
  redisTargetOptions,
  routeRecordedDelivery,
  verifyRedisAccess,
} from '@evalbot/jobs';
import type { Logger } from '@evalbot/logger';
import { DEFAULT_POOL } from '@evalbot/repo-config';
import { DelayedError, type Job, type Processor, WaitingChildrenError, Worker } from 'bullmq';
import type { WorkerConfig } from './env.ts';
import { followPullRequestEvents } from './follow-pull-request-events.ts';
import { JobLogFiles } from './job-log-files.ts';
import { openSandbox } from './open-sandbox.ts';
import { createPoolProcessors } from './pools/pool-processors.ts';
import { compareAndPublish } from './processors/compare-and-publish.ts';
import { evaluateCommand } from './processors/evaluate-command.ts';
import { evaluateSide } from './processors/evaluate-side.ts';
import {
  CheckRunOutput,
  CommentOutput,
  type PublishOutput,
  PullRequestGate,
  ReportPublisher,
} from './publishing/index.ts';
import { recoverMissedDeliveries } from './recover-missed-deliveries.ts';
import { requeueOrRethrow } from './requeue-or-rethrow.ts';
import { ResultCache } from './result-cache.ts';
import { RunningEvaluations } from './running-evaluations.ts';
import { withJobContext } from './with-job-context.ts';
import { type RateLimit, WorkerMetrics } from './worker-metrics.ts';

/** The job scheduler of the delivery recovery job (`DELIVERY_RECOVERY_INTERVAL_SECONDS`). */
const RECOVERY_SCHEDULER_ID = 'recover-missed-deliveries';

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

  // Credentials Redis refuses end the start here (RedisAccessError, which main.ts reports in one
  // line) rather than in BullMQ's reconnect loop; a Redis that is down is waited for.
  if (!(await verifyRedisAccess(config.redis))) {
    logger.warn('Redis is not reachable yet; waiting for it');
  }

  // Before any job is taken: a worker that cannot serve its metrics must not start and strand a job.
  const metrics = new WorkerMetrics({ environmentCacheMaxBytes: config.cacheMaxBytes });
  const metricsServer =
    config.metricsPort > 0 ? await metrics.listen(config.metricsPort, config.metricsHost) : undefined;

  const connectionLogger = logger.child({ component: 'redis' });
  const redis = createRedisConnection(config.redis, {
    role: 'worker',
    connectionName: 'evalbot-worker',
    logger: connectionLogger,
  });
  const subscriber = createRedisConnection(config.redis, {
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
      onRateLimitWait: (limit) =>
        metrics.rateLimitWaits.inc({ limit: limit satisfies RateLimit, where: 'client' }),
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
  const results = new ResultCache(redis, config.prefix, config.baseCacheTtlSeconds, config.shareResults);
  await followPullRequestEvents(subscriber, { prefix: config.prefix, running, logger });

  const onRateLimited = (limit: RateLimit) => metrics.rateLimitWaits.inc({ limit, where: 'queue' });
  const jobLogs = new JobLogFiles({
    ...config.jobLogs,
    onError: (error) =>
      logger.warn({ err: error, dir: config.jobLogs.dir }, 'could not write a job log file'),
  });
  const evaluate = (job: Job, token: string | undefined, gpuDevice?: string) =>
    withJobContext(job, jobLogs, (context) =>
      evaluateSide(job.data, context, {
        config,
        redis,
        github,
        running,
        results,
        publisher,
        metrics,
        logger,
        sandbox,
        ...(gpuDevice !== undefined ? { gpuDevice } : {}),
        // A pool's job is the child of the side's job in the default queue (`<compare id>-head`).
        evaluationIdOf: () => (job.parent?.id ?? job.id ?? '').replace(/-(head|base)$/, ''),
      }),
    ).catch((error: unknown) => requeueOrRethrow(job, token, error, onRateLimited));

  const { evaluateOrRoute, evaluateInPool, gpus, presence, closeQueues } = createPoolProcessors({
    config,
    redis,
    github,
    results,
    logger,
    evaluate,
    requeueOrRethrow: (job, token, error) => requeueOrRethrow(job, token, error, onRateLimited),
  });

  const compare: Processor = (job, token) =>
    withJobContext(job, jobLogs, (context) =>
      compareAndPublish(
        job.data,
        {
          ...context,
          childrenValues: () => job.getChildrenValues(),
          ignoredChildrenFailures: () => job.getIgnoredChildrenFailures(),
        },
        {
          redis,
          prefix: config.prefix,
          evaluateLabel: config.evaluateLabel,
          github,
          publisher,
          logger,
          now,
          secrets: [config.app.privateKey],
        },
      ),
    ).catch((error: unknown) => requeueOrRethrow(job, token, error, onRateLimited));
  const command: Processor = (job, token) =>
    withJobContext(job, jobLogs, (context) =>
      evaluateCommand(job.data, context, { github, producer, logger }),
    ).catch((error: unknown) => requeueOrRethrow(job, token, error, onRateLimited));

  // The router: recorded deliveries become evaluation flows, commands and cancellations here,
  // off the gateway's request path. A few Redis round trips each, so several run at once;
  // ordering between deliveries of one PR is kept by updated_at in Redis, not by arrival.
  const route: Processor = (job) => routeRecordedDelivery(producer, job.data);

  const recover: Processor = () =>
    recoverMissedDeliveries({
      appOctokit: github.appOctokit,
      producer,
      logger: logger.child({ component: 'delivery-recovery' }),
      onOutcome: (outcome, count) => metrics.recoveredDeliveries.inc({ outcome }, count),
    });

  const workerOptions = {
    connection: {
      ...redisTargetOptions(config.redis),
      url: config.redis.url,
      maxRetriesPerRequest: null,
    },
    prefix: config.prefix,
    lockDuration: config.lockDurationMs,
    // A job whose worker died is retried; twice more before it is failed as stalled.
    maxStalledCount: 2,
    stalledInterval: config.stalledIntervalMs,
  };
  const counted =
    (queue: string, processor: Processor): Processor =>
    async (job, token) => {
      metrics.runningJobs.inc({ queue });
      try {
        return await processor(job, token);
      } finally {
        metrics.runningJobs.dec({ queue });
      }
    };
  const serve = (kind: JobKind, processor: Processor, concurrency: number) => {
    const { queue } = jobCatalog[kind];
    return new Worker(queue, counted(queue, processor), { ...workerOptions, concurrency });
  };
  // The default pool's workers also take the light work (routing recorded deliveries, compare
  // and publish, commands, the recovery job); a worker of other pools only (e.g.
  // WORKER_POOLS=gpu) takes its pools' evaluations.
  const servesDefault = config.pools.includes(DEFAULT_POOL);
  const workers = servesDefault
    ? [
        serve('delivery', route, config.routerConcurrency),
        serve('evaluate', evaluateOrRoute, config.concurrency),
        serve('compare', compare, Math.max(2, config.concurrency)),
        serve('command', command, 2),
        serve('recovery', recover, 1),
      ]
    : [];
  for (const pool of config.pools.filter((p) => p !== DEFAULT_POOL)) {
    const queue = poolQueueOf(pool);
    workers.push(
      new Worker(queue, counted(queue, evaluateInPool), {
        ...workerOptions,
        // One training per GPU; a pool of CPU machines runs WORKER_CONCURRENCY at once.
        concurrency: gpus.all.length > 0 ? gpus.all.length : config.concurrency,
      }),
    );
  }
  // One schedule for every worker (the same id): each pass runs on one worker only. Not awaited:
  // a worker started while Redis is down waits for it, and this is written once it is back.
  if (servesDefault) {
    const { recovery } = jobCatalog;
    const recoveryQueue = producer.queues[recovery.queue];
    const scheduled =
      config.recoveryIntervalMs > 0
        ? recoveryQueue.upsertJobScheduler(
            RECOVERY_SCHEDULER_ID,
            { every: config.recoveryIntervalMs },
            { name: recovery.nameOf({}), opts: jobOptionsOf('recovery') },
          )
        : recoveryQueue.removeJobScheduler(RECOVERY_SCHEDULER_ID);
    scheduled.catch((error: unknown) =>
      logger.warn({ err: error }, 'could not schedule the delivery recovery job'),
    );
  }
  for (const worker of workers) {
    const queue = worker.name;
    worker.on('completed', () => metrics.jobs.inc({ queue, outcome: 'completed' }));
    worker.on('failed', (job, error) => {
      if (error instanceof DelayedError || error.name === 'DelayedError') return;
      if (error instanceof WaitingChildrenError || error.name === 'WaitingChildrenError') return;
      metrics.jobs.inc({ queue, outcome: 'failed' });
      logger.warn({ queue, jobId: job?.id, attemptsMade: job?.attemptsMade, err: error }, 'job failed');
    });
    worker.on('error', (error) => logger.warn({ queue, err: error }, 'worker error'));
  }
  await presence.announce(`${hostname()}:${process.pid}:${randomUUID().slice(0, 8)}`, config.pools);
  logger.info(
    {
      concurrency: config.concurrency,
      prefix: config.prefix,
      metricsPort: config.metricsPort,
      pools: config.pools,
      gpuDevices: config.gpuDevices,
      recoveryIntervalMs: config.recoveryIntervalMs,
    },
    'worker started',
  );

  let closing: Promise<void> | undefined;
  return {
    metrics,
    metricsServer,
    close: () => {
      closing ??= (async () => {
        logger.info({ running: running.size }, 'worker stopping: handing running evaluations back');
        await presence.stop().catch(() => {});
        running.abortAll();
        await Promise.all(workers.map((w) => w.close()));
        await closeQueues();
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
