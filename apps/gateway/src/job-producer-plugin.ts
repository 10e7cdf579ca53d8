import type { RedisTarget } from '@evalbot/config';
import { createJobProducer, createRedisConnection, type JobProducer, jobCatalog } from '@evalbot/jobs';
import type { FastifyPluginAsync } from 'fastify';
import fp from 'fastify-plugin';
import type { Redis } from 'ioredis';
import { DeliveryRecorder } from './delivery-recorder.ts';

declare module 'fastify' {
  interface FastifyInstance {
    /** The queues on the gateway's fail-fast Redis connection: counts for /metrics, readiness. */
    jobProducer: JobProducer;
    /** Writes deliveries to the delivery log in batches. */
    deliveryRecorder: DeliveryRecorder;
  }
}

export interface JobProducerPluginOptions {
  /** The Redis to open a connection to, unless `connection` is given. */
  redis: RedisTarget;
  prefix: string;
  /** Bound on one Redis command, so a slow Redis gives 503 instead of a hung delivery. */
  commandTimeoutMs: number;
  /** An existing connection to use (its owner closes it); else one is opened and closed here. */
  connection?: Redis;
}

const jobProducerPlugin: FastifyPluginAsync<JobProducerPluginOptions> = async (app, opts) => {
  const owned = !opts.connection;
  const connection =
    opts.connection ??
    createRedisConnection(opts.redis, {
      role: 'producer',
      commandTimeoutMs: opts.commandTimeoutMs,
      connectionName: 'evalbot-gateway',
      logger: app.log,
    });
  const producer = createJobProducer({ connection, prefix: opts.prefix });
  app.decorate('jobProducer', producer);
  app.decorate(
    'deliveryRecorder',
    new DeliveryRecorder({
      queue: producer.queues[jobCatalog.delivery.queue],
      connection,
      timeoutMs: opts.commandTimeoutMs,
    }),
  );
  app.addHook('onClose', async () => {
    await producer.close();
    // disconnect, not quit: nothing is pending, and quit would wait on a Redis that is down.
    if (owned) connection.disconnect();
  });
};

export default fp(jobProducerPlugin, { name: 'evalbot-job-producer' });
