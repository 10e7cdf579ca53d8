import { isResultKnown } from '@evalbot/evaluator';
import { cloneScope, type GitHubApp } from '@evalbot/github';
import { jobCatalog, poolQueueOf } from '@evalbot/jobs';
import type { Logger } from '@evalbot/logger';
import { DelayedError, type Job, type Processor, Queue, UnrecoverableError } from 'bullmq';
import type { Redis } from 'ioredis';
import type { WorkerConfig } from '../env.ts';
import type { ResultCache } from '../result-cache.ts';
import { GpuDevices } from './gpu-devices.ts';
import { PoolPresence } from './pool-presence.ts';
import { BaseResourcesMemo, readBaseResources } from './read-base-resources.ts';
import { routeToPool } from './route-to-pool.ts';

/** How soon a GPU training that found every GPU of its worker taken is offered again. */
const GPU_BUSY_RETRY_MS = 5_000;

export interface PoolProcessorsDeps {
  config: Pick<WorkerConfig, 'gpuDevices' | 'poolWaitMs' | 'prefix' | 'python'>;
  redis: Redis;
  github: GitHubApp;
  results: ResultCache;
  logger: Logger;
  /** Evaluate the job's side here, on `gpuDevice` when given (the worker's side processor). */
  evaluate(job: Job, token: string | undefined, gpuDevice?: string): Promise<unknown>;
  /** Hand a job back or rethrow its error, as every processor of the worker does. */
  requeueOrRethrow(job: Job, token: string | undefined, error: unknown): Promise<unknown>;
}

export interface PoolProcessors {
  /** The default evaluate queue's processor: send the side to its pool, or evaluate it here. */
  evaluateOrRoute: Processor;
  /** A pool's evaluate queue's processor: evaluate the side, on a GPU of its own if it asks for one. */
  evaluateInPool: Processor;
  /** The GPUs this worker hands out, one per training. */
  gpus: GpuDevices;
  /** This worker's heartbeat in the pools it serves. */
  presence: PoolPresence;
  /** Close the pool queues this worker added sides to. */
  closeQueues(): Promise<void>;
}

/**
 * Pools: a side in the default queue goes to the pool the base branch asks for (see
 * route-to-pool.ts); a pool's worker gives each GPU training a GPU of its own.
 */
export function createPoolProcessors(deps: PoolProcessorsDeps): PoolProcessors {
  const { config, redis, github, results, logger } = deps;
  const gpus = new GpuDevices(config.gpuDevices);
  const presence = new PoolPresence(redis, config.prefix, (error) =>
    logger.warn({ err: error }, 'could not announce this worker in its pools'),
  );
  // Both sides of an evaluation route by the same base commit, whose file cannot change.
  const baseResources = new BaseResourcesMemo();
  const poolQueues = new Map<string, Queue>();
  const queueOf = (pool: string) => {
    let queue = poolQueues.get(pool);
    if (!queue) {
      queue = new Queue(poolQueueOf(pool), { connection: redis, prefix: config.prefix });
      poolQueues.set(pool, queue);
    }
    return queue;
  };

  const evaluateOrRoute: Processor = async (job, token) => {
    try {
      const routed = await routeToPool(job, token, {
        readBaseResources: ({ pr }) =>
          baseResources.read(`${pr.installationId}/${pr.owner}/${pr.repo}@${pr.baseSha}`, () =>
            // A token that reads only this repository, as for its clone.
            readBaseResources(github.installationOctokit(pr.installationId, logger, cloneScope(pr.repo)), {
              owner: pr.owner,
              repo: pr.repo,
              sha: pr.baseSha,
            }),
          ),
        workersIn: (pool) => presence.workersIn(pool),
        queueOf,
        baseIsCached: ({ pr, sha }) =>
          isResultKnown({
            store: results,
            scope: results.scopeOf(`${pr.owner}/${pr.repo}`),
            side: 'base',
            sha,
            python: config.python,
          }),
        poolWaitMs: config.poolWaitMs,
        log: logger.child({ jobId: job.id }),
      });
      if (routed) return routed;
    } catch (error) {
      return deps.requeueOrRethrow(job, token, error);
    }
    return deps.evaluate(job, token);
  };

  const evaluateInPool: Processor = async (job, token) => {
    if (jobCatalog.evaluate.safeParse(job.data).data?.pool?.gpu !== true) return deps.evaluate(job, token);
    if (gpus.all.length === 0) {
      throw new UnrecoverableError(
        `the base branch asks for a GPU, but this worker of the "${job.data.pool.name}" pool has none: set EVALBOT_GPU_DEVICES on its workers`,
      );
    }
    const device = gpus.lease();
    if (device === undefined) {
      // Every GPU is taken by another pool's training on this worker: back to the queue a moment.
      await job.moveToDelayed(Date.now() + GPU_BUSY_RETRY_MS, token);
      throw new DelayedError();
    }
    try {
      await job.log(`training on GPU ${device} (CUDA_VISIBLE_DEVICES=${device})`);
      return await deps.evaluate(job, token, device);
    } finally {
      gpus.release(device);
    }
  };

  return {
    evaluateOrRoute,
    evaluateInPool,
    gpus,
    presence,
    closeQueues: async () => {
      await Promise.all([...poolQueues.values()].map((q) => q.close()));
    },
  };
}
