/** Single-side evaluations: clone one commit, prepare its environment, run it, read metrics. */
export const EVALUATE_QUEUE = 'evalbot-evaluate';
/** Flow parents: compare the two sides of one PR evaluation and publish the report. */
export const COMPARE_QUEUE = 'evalbot-compare';
/**
 * Commands typed in a PR comment (`/evaluate`): the worker checks the commenter's permission,
 * reads the PR's head and base from the GitHub API, then enqueues the evaluation flow itself.
 */
export const COMMAND_QUEUE = 'evalbot-command';
/**
 * The delivery log: one job per webhook delivery worth acting on, written by the gateway (job id
 * = `X-GitHub-Delivery`) and turned into evaluation work by the worker's router.
 */
export const DELIVERY_QUEUE = 'evalbot-delivery';
/** The repeatable job that asks GitHub to redeliver deliveries it could not hand over. */
export const RECOVERY_QUEUE = 'evalbot-recovery';
/** Default BullMQ key prefix; tests use their own. */
export const DEFAULT_PREFIX = 'evalbot';
export const QUEUE_NAMES = [
  DELIVERY_QUEUE,
  EVALUATE_QUEUE,
  COMPARE_QUEUE,
  COMMAND_QUEUE,
  RECOVERY_QUEUE,
] as const;
export type QueueName = (typeof QUEUE_NAMES)[number];
