import type { JobsOptions } from 'bullmq';

const DAY_SECONDS = 24 * 3600;

/**
 * A job's log in Redis is a bounded tail: BullMQ keeps the last `keptLines` entries
 * (`keepLogs`) and the worker cuts each to `lineChars`, so a chatty training costs at most
 * ~300 KB of Redis however long it runs. The whole output is on the worker's disk
 * (EVALBOT_JOB_LOG_DIR), rotated.
 */
export const JOB_LOG_LIMITS = { keptLines: 300, lineChars: 1_000 } as const;

/**
 * One side's evaluation. Only infrastructure errors are thrown (the PR's own failures are a
 * returned `SideOutcome`), so retries with back-off are for clone 5xx, Redis blips and the like.
 * After its last attempt the child is moved to the parent's failed dependencies instead of
 * blocking it, so the compare job still runs and reports the failure
 * (`job.getIgnoredChildrenFailures()`).
 */
export const EVALUATE_JOB_OPTIONS = {
  attempts: 3,
  backoff: { type: 'exponential', delay: 5_000 },
  ignoreDependencyOnFailure: true,
  keepLogs: JOB_LOG_LIMITS.keptLines,
  removeOnComplete: { age: 7 * DAY_SECONDS, count: 1_000 },
  // Fewer than the other queues: a failed training can hold a full log tail (~300 KB), and 1,000
  // of them fit the sizing in docs/operations.md; 5,000 would not fit a 1 GB Redis.
  removeOnFail: { age: 30 * DAY_SECONDS, count: 1_000 },
} satisfies JobsOptions;

/**
 * The flow parent: compares both sides and publishes to GitHub. Its work (two trainings) is
 * already done, so it outlasts a GitHub outage rather than lose it: 8 attempts back off
 * 5 s, 10 s, … 640 s — about 20 minutes in all (rate limits wait without spending attempts).
 */
export const COMPARE_JOB_OPTIONS = {
  attempts: 8,
  backoff: { type: 'exponential', delay: 5_000 },
  keepLogs: JOB_LOG_LIMITS.keptLines,
  removeOnComplete: { age: 7 * DAY_SECONDS, count: 1_000 },
  removeOnFail: { age: 30 * DAY_SECONDS, count: 5_000 },
} satisfies JobsOptions;

/** An `/evaluate` command: resolve the PR through the GitHub API, then enqueue its flow. */
export const COMMAND_JOB_OPTIONS = {
  attempts: 3,
  backoff: { type: 'exponential', delay: 2_000 },
  keepLogs: JOB_LOG_LIMITS.keptLines,
  removeOnComplete: { age: 7 * DAY_SECONDS, count: 1_000 },
  removeOnFail: { age: 30 * DAY_SECONDS, count: 5_000 },
} satisfies JobsOptions;

/**
 * A recorded delivery. Routing it is a few Redis round trips, so retries are quick; a finished
 * one is kept 3 days (as long as GitHub keeps its delivery list) so that the recovery job and a
 * redelivery find it, bounded in count (~1 KB each).
 */
export const DELIVERY_JOB_OPTIONS = {
  attempts: 5,
  backoff: { type: 'exponential', delay: 1_000 },
  removeOnComplete: { age: 3 * DAY_SECONDS, count: 50_000 },
  removeOnFail: { age: 30 * DAY_SECONDS, count: 5_000 },
} satisfies JobsOptions;

/** One pass of the recovery job; the next pass comes at the next interval anyway. */
export const RECOVERY_JOB_OPTIONS = {
  attempts: 1,
  removeOnComplete: { count: 100 },
  removeOnFail: { count: 100 },
} satisfies JobsOptions;
