import { FlowProducer, Queue } from 'bullmq';
import type { Cluster, Redis } from 'ioredis';
import { jobCatalog, type QueueName } from './job-catalog.ts';

/**
 * A connection evalbot's job code runs on: one Redis (or a Sentinel group's master), or a Redis
 * Cluster, where every key must share the prefix's hash tag (`{evalbot}`, see `BULLMQ_PREFIX`).
 */
export type RedisConnection = Redis | Cluster;

/** What enqueues and cancels evaluations: a FlowProducer and the queues, on one connection. */
export interface JobProducer<C extends RedisConnection = Redis> {
  readonly connection: C;
  readonly prefix: string;
  readonly flowProducer: FlowProducer;
  readonly queues: Readonly<Record<QueueName, Queue>>;
  /** Close the queues and the flow producer; the connection stays open (its owner closes it). */
  close(): Promise<void>;
}

/**
 * Build a {@link JobProducer} on an existing connection (see `createRedisConnection`), shared
 * by every queue so that a producer holds one socket to Redis.
 */
export function createJobProducer<C extends RedisConnection>(opts: {
  connection: C;
  prefix: string;
}): JobProducer<C> {
  const { connection, prefix } = opts;
  const queue = ({ queue: name }: { queue: QueueName }) => new Queue(name, { connection, prefix });
  const queues = {
    [jobCatalog.delivery.queue]: queue(jobCatalog.delivery),
    [jobCatalog.evaluate.queue]: queue(jobCatalog.evaluate),
    [jobCatalog.compare.queue]: queue(jobCatalog.compare),
    [jobCatalog.command.queue]: queue(jobCatalog.command),
    [jobCatalog.recovery.queue]: queue(jobCatalog.recovery),
  };
  const flowProducer = new FlowProducer({ connection, prefix });
  // BullMQ re-emits connection errors; the connection's owner logs them once.
  flowProducer.on('error', () => {});
  for (const q of Object.values(queues)) q.on('error', () => {});
  return {
    connection,
    prefix,
    flowProducer,
    queues,
    close: async () => {
      await Promise.all([flowProducer.close(), ...Object.values(queues).map((q) => q.close())]);
    },
  };
}
