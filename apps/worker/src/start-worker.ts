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
  DELIVERY_QUEUE,
  EVALUATE_QUEUE,
  pullRequestEventSchema,
  RECOVERY_JOB_OPTIONS,
  RECOVERY_QUEUE,
  redisKeys,
  redisTlsOptions,
  routeRecordedDelivery,
  verifyRedisAccess,
} from '@evalbot/jobs';
import type { Logger } from '@evalbot/logger';
import { DelayedError, type Processor, Worker } from 'bullmq';
import { BaseResultCache } from './base-result-cache.ts';
import type { WorkerConfig } from './env.ts';
import { JobLogFiles } from './job-log-files.ts';
import { compareAndPublish } from './processors/compare-and-publish.ts';
import { evaluateCommand } from './processors/evaluate-command.ts';
import { evaluateSide } from './processors/evaluate-side.ts';
import { recoverMissedDeliveries } from './recover-missed-deliveries.ts';
import { ReportPublisher } from './report-publisher.ts';
import { requeueOrRethrow } from './requeue-or-rethrow.ts';
import { RunningEvaluations } from './running-evaluations.ts';
import { withJobContext } from './with-job-context.ts';
import { WorkerMetrics } from './worker-metrics.ts';

/** The job scheduler of the delivery recovery job (`DELIVERY_RECOVERY_INTERVAL_SECONDS`). */
export const RECOVERY_SCHEDULER_ID = 'recover-missed-deliveries';

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
  if (!(await verifyRedisAccess(config.redisUrl, { tlsCa: config.redisTlsCa }))) {
    logger.warn('Redis is not reachable yet; waiting for it');
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
    ...(config.redisTlsCa ? { tlsCa: config.redisTlsCa } : {}),
  });
  const subscriber = createRedisConnection(config.redisUrl, {
    role: 'worker',
    connectionName: 'evalbot-worker-events',
    ...(config.redisTlsCa ? { tlsCa: config.redisTlsCa } : {}),
  });
  const producer = createJobProducer({ connection: redis, prefix: config.prefix });
  const github =
    opts.github ??
    createGitHubApp({
      appId: config.app.appId,
      privateKey: config.app.privateKey,
      apiUrl: config.apiUrl,
      logger: logger.child({ component: 'github' }),
      onRateLimitWait: (limit) => metrics.rateLimitWaits.inc({ limit, where: 'client' }),
    });
  const running = new RunningEvaluations();
  const publisher = new ReportPublisher({ github, redis, prefix: config.prefix, now });
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

  const onRateLimited = (limit: 'primary' | 'secondary') =>
    metrics.rateLimitWaits.inc({ limit, where: 'queue' });
  const jobLogs = new JobLogFiles({
    ...config.jobLogs,
    onError: (error) =>
      logger.warn({ err: error, dir: config.jobLogs.dir }, 'could not write a job log file'),
  });
  const evaluate: Processor = (job, token) =>
    withJobContext(job, jobLogs, (context) =>
      evaluateSide(job.data, context, {
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
      }),
    ).catch((error: unknown) => requeueOrRethrow(job, token, error, onRateLimited));
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
          metrics,
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
    connection: { ...redisTlsOptions(config.redisTlsCa), url: config.redisUrl, maxRetriesPerRequest: null },
    prefix: config.prefix,
    lockDuration: config.lockDurationMs,
    // A job whose worker died is retried; twice more before it is failed as stalled.
    maxStalledCount: 2,
    stalledInterval: Math.min(30_000, config.lockDurationMs),
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
  const workers = [
    new Worker(DELIVERY_QUEUE, counted(DELIVERY_QUEUE, route), {
      ...workerOptions,
      concurrency: config.routerConcurrency,
    }),
    new Worker(EVALUATE_QUEUE, counted(EVALUATE_QUEUE, evaluate), {
      ...workerOptions,
      concurrency: config.concurrency,
    }),
    new Worker(COMPARE_QUEUE, counted(COMPARE_QUEUE, compare), {
      ...workerOptions,
      concurrency: Math.max(2, config.concurrency),
    }),
    new Worker(COMMAND_QUEUE, counted(COMMAND_QUEUE, command), { ...workerOptions, concurrency: 2 }),
    new Worker(RECOVERY_QUEUE, counted(RECOVERY_QUEUE, recover), { ...workerOptions, concurrency: 1 }),
  ];
  // One schedule for every worker (the same id): each pass runs on one worker only. Not awaited:
  // a worker started while Redis is down waits for it, and this is written once it is back.
  const recoveryQueue = producer.queues[RECOVERY_QUEUE];
  const scheduled =
    config.recoveryIntervalMs > 0
      ? recoveryQueue.upsertJobScheduler(
          RECOVERY_SCHEDULER_ID,
          { every: config.recoveryIntervalMs },
          { name: 'recover-deliveries', opts: RECOVERY_JOB_OPTIONS },
        )
      : recoveryQueue.removeJobScheduler(RECOVERY_SCHEDULER_ID);
  scheduled.catch((error: unknown) =>
    logger.warn({ err: error }, 'could not schedule the delivery recovery job'),
  );
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
    {
      concurrency: config.concurrency,
      prefix: config.prefix,
      metricsPort: config.metricsPort,
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
