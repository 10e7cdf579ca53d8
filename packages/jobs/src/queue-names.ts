/** Single-side evaluations: clone one commit, prepare its environment, run it, read metrics. */
export const EVALUATE_QUEUE = 'evalbot-evaluate';
/** Flow parents: compare the two sides of one PR evaluation and publish the report. */
export const COMPARE_QUEUE = 'evalbot-compare';
/**
 * Commands typed in a PR comment (`/evaluate`): the worker checks the commenter's permission,
 * reads the PR's head and base from the GitHub API, then enqueues the evaluation flow itself.
 */
export const COMMAND_QUEUE = 'evalbot-command';
/** Default BullMQ key prefix; tests use their own. */
export const DEFAULT_PREFIX = 'evalbot';
export const QUEUE_NAMES = [EVALUATE_QUEUE, COMPARE_QUEUE, COMMAND_QUEUE] as const;
export type QueueName = (typeof QUEUE_NAMES)[number];
