/** Single-side evaluations: clone one commit, prepare its environment, run it, read metrics. */
export const EVALUATE_QUEUE = 'evalbot-evaluate';
/** Flow parents: compare the two sides of one PR evaluation and publish the report. */
export const COMPARE_QUEUE = 'evalbot-compare';
/** Default BullMQ key prefix; tests use their own. */
export const DEFAULT_PREFIX = 'evalbot';
export const QUEUE_NAMES = [EVALUATE_QUEUE, COMPARE_QUEUE] as const;
