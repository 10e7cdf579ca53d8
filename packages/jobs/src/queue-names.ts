import { jobCatalog, type QueueName } from './job-catalog.ts';

// Each queue's name, from the catalog, for code that reads a queue without adding to it
// (the dashboard, metrics, tests).
export const DELIVERY_QUEUE = jobCatalog.delivery.queue;
export const EVALUATE_QUEUE = jobCatalog.evaluate.queue;
export const COMPARE_QUEUE = jobCatalog.compare.queue;
export const COMMAND_QUEUE = jobCatalog.command.queue;
export const RECOVERY_QUEUE = jobCatalog.recovery.queue;

/** Every queue of the catalog, in the order the dashboard lists them. */
export const QUEUE_NAMES: readonly QueueName[] = Object.values(jobCatalog).map((job) => job.queue);
export type { QueueName };
