import type { JobsOptions } from 'bullmq';
import { z } from 'zod';
import { deliveryJobSchema } from './delivery-job.ts';
import { compareJobSchema, evaluateCommandJobSchema, evaluateJobSchema } from './payloads.ts';

const DAY_SECONDS = 24 * 3600;

/**
 * A job's log in Redis is a bounded tail: BullMQ keeps the last `keptLines` entries
 * (`keepLogs`) and the worker cuts each to `lineChars`, so a chatty training costs at most
 * ~300 KB of Redis however long it runs. The whole output is on the worker's disk
 * (EVALBOT_JOB_LOG_DIR), rotated.
 */
export const JOB_LOG_LIMITS = { keptLines: 300, lineChars: 1_000 } as const;

/** One kind of job: its queue, its payload, its name on the board and its BullMQ options. */
export interface JobDefinition<
  Q extends string = string,
  S extends z.ZodType = z.ZodType,
  O extends JobsOptions = JobsOptions,
> {
  /** The BullMQ queue its jobs are added to (a worker pool's queue adds `-<pool>`). */
  readonly queue: Q;
  /** The payload, parsed when a job is added ({@link jobOf}) and again when it is processed. */
  readonly schema: S;
  /** The job's name, as Bull Board lists it. */
  readonly nameOf: (data: z.output<S>) => string;
  /** Attempts and back-off (the retry policy), log tail and retention. */
  readonly jobOptions: Readonly<O>;
  /** `schema.parse`: the payload, or a ZodError naming each field that is wrong. */
  parse(data: unknown): z.output<S>;
  safeParse(data: unknown): z.ZodSafeParseResult<z.output<S>>;
}

function defineJob<const Q extends string, S extends z.ZodType, const O extends JobsOptions>(
  definition: Pick<JobDefinition<Q, S, O>, 'queue' | 'schema' | 'nameOf' | 'jobOptions'>,
): JobDefinition<Q, S, O> {
  return {
    ...definition,
    parse: (data) => definition.schema.parse(data),
    safeParse: (data) => definition.schema.safeParse(data),
  };
}

/**
 * Every job evalbot queues, by kind: where it goes, what it carries and how BullMQ retries and
 * keeps it, in one place (trigger.dev's `WorkerCatalog` is the model). Call sites name a kind
 * and never pair a queue with a schema or options by hand: `jobOf('compare', data, { jobId })`
 * for `queue.add`/`addBulk`/a flow, `jobCatalog.evaluate.parse(job.data)` in a processor.
 */
export const jobCatalog = {
  /**
   * The delivery log: one job per webhook delivery worth acting on, written by the gateway (job
   * id = `X-GitHub-Delivery`) and turned into evaluation work by the worker's router. Routing it
   * is a few Redis round trips, so retries are quick; a finished one is kept 3 days (as long as
   * GitHub keeps its delivery list) so that the recovery job and a redelivery find it, bounded
   * in count (~1 KB each).
   */
  delivery: defineJob({
    queue: 'evalbot-delivery',
    schema: deliveryJobSchema,
    nameOf: (job) => job.event,
    jobOptions: {
      attempts: 5,
      backoff: { type: 'exponential', delay: 1_000 },
      removeOnComplete: { age: 3 * DAY_SECONDS, count: 50_000 },
      removeOnFail: { age: 30 * DAY_SECONDS, count: 5_000 },
    },
  }),
  /**
   * One side's evaluation: clone one commit, prepare its environment, run it, read metrics.
   * Only infrastructure errors are thrown (the PR's own failures are a returned `SideOutcome`),
   * so retries with back-off are for clone 5xx, Redis blips and the like. After its last
   * attempt the child is moved to the parent's failed dependencies instead of blocking it, so
   * the compare job still runs and reports the failure (`job.getIgnoredChildrenFailures()`).
   */
  evaluate: defineJob({
    queue: 'evalbot-evaluate',
    schema: evaluateJobSchema,
    nameOf: (job) => `evaluate-${job.side}`,
    jobOptions: {
      attempts: 3,
      backoff: { type: 'exponential', delay: 5_000 },
      ignoreDependencyOnFailure: true,
      keepLogs: JOB_LOG_LIMITS.keptLines,
      removeOnComplete: { age: 7 * DAY_SECONDS, count: 1_000 },
      // Fewer than the other queues: a failed training can hold a full log tail (~300 KB), and
      // 1,000 of them fit the sizing in docs/operations.md; 5,000 would not fit a 1 GB Redis.
      removeOnFail: { age: 30 * DAY_SECONDS, count: 1_000 },
    },
  }),
  /**
   * The flow parent: compares both sides and publishes to GitHub. Its work (two trainings) is
   * already done, so it outlasts a GitHub outage rather than lose it: 8 attempts back off 5 s,
   * 10 s, … 640 s — about 20 minutes in all (rate limits wait without spending attempts).
   */
  compare: defineJob({
    queue: 'evalbot-compare',
    schema: compareJobSchema,
    nameOf: () => 'compare',
    jobOptions: {
      attempts: 8,
      backoff: { type: 'exponential', delay: 5_000 },
      keepLogs: JOB_LOG_LIMITS.keptLines,
      removeOnComplete: { age: 7 * DAY_SECONDS, count: 1_000 },
      removeOnFail: { age: 30 * DAY_SECONDS, count: 5_000 },
    },
  }),
  /**
   * Commands typed in a PR comment (`/evaluate`): the worker checks the commenter's permission,
   * reads the PR's head and base from the GitHub API, then enqueues the evaluation flow itself.
   */
  command: defineJob({
    queue: 'evalbot-command',
    schema: evaluateCommandJobSchema,
    nameOf: () => 'evaluate-command',
    jobOptions: {
      attempts: 3,
      backoff: { type: 'exponential', delay: 2_000 },
      keepLogs: JOB_LOG_LIMITS.keptLines,
      removeOnComplete: { age: 7 * DAY_SECONDS, count: 1_000 },
      removeOnFail: { age: 30 * DAY_SECONDS, count: 5_000 },
    },
  }),
  /**
   * The repeatable job that asks GitHub to redeliver deliveries it could not hand over. It
   * carries nothing; one pass is tried once, as the next comes at the next interval anyway.
   */
  recovery: defineJob({
    queue: 'evalbot-recovery',
    schema: z.object({}),
    nameOf: () => 'recover-deliveries',
    jobOptions: {
      attempts: 1,
      removeOnComplete: { count: 100 },
      removeOnFail: { count: 100 },
    },
  }),
} as const;

export type JobKind = keyof typeof jobCatalog;
/** The payload of a job of `kind`, as parsed. */
export type JobData<K extends JobKind> = z.output<(typeof jobCatalog)[K]['schema']>;
/** The payload of a job of `kind`, as given to {@link jobOf} (before defaults apply). */
export type JobInput<K extends JobKind> = z.input<(typeof jobCatalog)[K]['schema']>;
export type QueueName = (typeof jobCatalog)[JobKind]['queue'];

/** The catalog's options of `kind`, with a job's own (its id, its parent) added. */
export function jobOptionsOf(kind: JobKind, own: JobsOptions = {}): JobsOptions {
  return { ...jobCatalog[kind].jobOptions, ...own };
}

/**
 * A job of `kind`, for `queue.add(job.name, job.data, job.opts)`, `queue.addBulk` or a flow:
 * its data parsed by the kind's schema (nothing malformed reaches Redis), its name and options
 * from the catalog, `own` options (job id, parent) added.
 */
export function jobOf<K extends JobKind>(
  kind: K,
  data: JobInput<K>,
  own: JobsOptions = {},
): { name: string; queueName: (typeof jobCatalog)[K]['queue']; data: JobData<K>; opts: JobsOptions } {
  const definition: JobDefinition<(typeof jobCatalog)[K]['queue'], (typeof jobCatalog)[K]['schema']> =
    jobCatalog[kind];
  const parsed = definition.parse(data);
  return {
    name: definition.nameOf(parsed),
    queueName: definition.queue,
    data: parsed,
    opts: jobOptionsOf(kind, own),
  };
}
