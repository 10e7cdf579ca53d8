import { type EvaluateJob, jobCatalog, jobOf, type SideOutcome, sideOutcomeSchema } from '@evalbot/jobs';
import type { Logger } from '@evalbot/logger';
import { DEFAULT_POOL, poolOf, type Resources } from '@evalbot/repo-config';
import { DelayedError, Job, type Queue, UnrecoverableError, WaitingChildrenError } from 'bullmq';
import { sideNotEvaluated } from '../side-not-evaluated.ts';

/** How often a side waiting for a pool with no worker looks again (at most). */
const RECHECK_MS = 15_000;

export interface RouteToPoolDeps {
  /** The base commit's `resources` (its `.evalbot.yml`), read through the GitHub API. */
  readBaseResources(data: EvaluateJob): Promise<Resources>;
  /** Live workers of a pool (their heartbeats). */
  workersIn(pool: string): Promise<number>;
  /** The evaluate queue of a (non-default) pool, to add the side's job to. */
  queueOf(pool: string): Queue;
  /** A base result already cached needs no pool: it is reused wherever the side is. */
  baseIsCached(data: EvaluateJob): Promise<boolean>;
  poolWaitMs: number;
  log: Logger;
}

/**
 * Send a side to the worker pool the BASE branch's `.evalbot.yml` asks for (`resources`),
 * from the default evaluate queue, where every side is enqueued: the gateway cannot read the
 * repository, and reading the base here keeps the choice out of the PR's hands.
 *
 * Returns undefined when the side runs here (the default pool, or a base result to reuse);
 * else the side's outcome: the pool job's (this job waits for it as its child, BullMQ's
 * `moveToWaitingChildren`, holding no worker slot), or "no worker serves the pool" once none
 * has for `poolWaitMs`. Throws BullMQ's Delayed/WaitingChildren errors to park the job.
 */
export async function routeToPool(
  job: Job,
  token: string | undefined,
  deps: RouteToPoolDeps,
): Promise<SideOutcome | undefined> {
  const data = jobCatalog.evaluate.parse(job.data);
  let pool = data.pool;
  if (!pool) {
    if (data.side === 'base' && (await deps.baseIsCached(data))) return undefined;
    const resources = await deps.readBaseResources(data);
    const name = poolOf(resources);
    if (name === DEFAULT_POOL) return undefined;
    pool = { name, gpu: resources.gpu > 0, waitingSince: Date.now() };
    await job.updateData({ ...data, pool });
    await job.log(`the base branch's .evalbot.yml sends this side to the "${name}" pool`);
  }
  if (!token || !job.id) throw new Error('routeToPool needs a BullMQ job taken by a worker');

  const queue = deps.queueOf(pool.name);
  const childId = `${job.id}-${pool.name}`;
  if (!(await Job.fromId(queue, childId))) {
    if ((await deps.workersIn(pool.name)) === 0) {
      const waited = Date.now() - (pool.waitingSince ?? job.timestamp);
      if (waited >= deps.poolWaitMs) {
        deps.log.warn({ pool: pool.name, waitedMs: waited }, 'no worker serves the pool: side not evaluated');
        return sideNotEvaluated(data.sha, noWorkerMessage(pool.name, pool.gpu, deps.poolWaitMs));
      }
      await job.moveToDelayed(Date.now() + Math.min(RECHECK_MS, deps.poolWaitMs - waited), token);
      throw new DelayedError();
    }
    const { pool: _routing, ...side } = data;
    const poolJob = jobOf(
      'evaluate',
      { ...side, pool: { name: pool.name, gpu: pool.gpu } },
      { jobId: childId, parent: { id: job.id, queue: job.queueQualifiedName } },
    );
    await queue.add(poolJob.name, poolJob.data, poolJob.opts);
    await job.log(`handed to the "${pool.name}" pool as ${childId}`);
  }
  if (await job.moveToWaitingChildren(token)) throw new WaitingChildrenError();

  // The pool's job has finished: its outcome is this side's.
  const done = await Job.fromId(queue, childId);
  const state = done ? await done.getState() : 'unknown';
  if (state === 'completed') return sideOutcomeSchema.parse(done?.returnvalue);
  throw new UnrecoverableError(
    `the "${pool.name}" pool's job for this side ${state === 'failed' ? `failed: ${done?.failedReason}` : 'is gone'}`,
  );
}

function noWorkerMessage(pool: string, gpu: boolean, waitMs: number): string {
  const asked = gpu && pool === 'gpu' ? 'resources: {gpu: 1}' : `resources: {pool: ${pool}}`;
  return `not run: no evalbot worker serves the pool ${pool}, which the base branch's .evalbot.yml asks for (${asked}); waited ${describeWait(waitMs)}. Start a worker with WORKER_POOLS=${pool} (or change resources on the base branch), then comment /evaluate`;
}

function describeWait(ms: number): string {
  if (ms < 60_000) return `${Math.round(ms / 1000)} s`;
  const minutes = Math.round(ms / 60_000);
  return `${minutes} minute${minutes === 1 ? '' : 's'}`;
}
