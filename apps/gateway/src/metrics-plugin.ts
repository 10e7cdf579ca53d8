import { JOB_STATES, QUEUE_NAMES } from '@evalbot/jobs';
import type { FastifyPluginAsync } from 'fastify';
import fp from 'fastify-plugin';
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';
import type { LargeBodyGate } from './large-body-gate.ts';

export interface GatewayMetrics {
  registry: Registry;
  deliveries: Counter<'event' | 'outcome'>;
  enqueueSeconds: Histogram<'outcome'>;
}

declare module 'fastify' {
  interface FastifyInstance {
    metrics: GatewayMetrics;
  }
}

function within<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    promise,
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}

/**
 * Prometheus metrics on the app's own registry (so two apps in one process do not collide):
 * deliveries by event and outcome, enqueue latency, large bodies in flight, and queue depth
 * read from Redis on scrape (bounded by `scrapeTimeoutMs`, so a slow Redis never hangs a
 * scrape). Served by the internal app (`internal-app.ts`), not on the public port.
 */
const metricsPlugin: FastifyPluginAsync<{ scrapeTimeoutMs: number; largeBodies: LargeBodyGate }> = async (
  app,
  opts,
) => {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'evalbot_gateway_' });
  const deliveries = new Counter({
    name: 'evalbot_gateway_webhook_deliveries_total',
    help: 'Webhook deliveries by event (unverified when the signature did not match) and outcome',
    labelNames: ['event', 'outcome'] as const,
    registers: [registry],
  });
  const enqueueSeconds = new Histogram({
    name: 'evalbot_gateway_enqueue_duration_seconds',
    help: 'Time to record a delivery in the delivery log in Redis, by outcome',
    labelNames: ['outcome'] as const,
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
    registers: [registry],
  });
  type Counts = Record<string, number>[];
  let inflight: Promise<Counts | undefined> | undefined;
  // prom-client collects every metric of a scrape concurrently: both gauges share one read.
  const readCounts = () => {
    inflight ??= (async () => {
      const producer = app.jobProducer;
      if (producer.connection.status !== 'ready') return undefined;
      return within(
        Promise.all(QUEUE_NAMES.map((name) => producer.queues[name].getJobCounts(...JOB_STATES))),
        opts.scrapeTimeoutMs,
      ).catch(() => undefined);
    })().finally(() => {
      inflight = undefined;
    });
    return inflight;
  };
  new Gauge({
    name: 'evalbot_queue_jobs',
    help: 'Jobs per queue and state, read from Redis on scrape',
    labelNames: ['queue', 'state'] as const,
    registers: [registry],
    async collect() {
      this.reset();
      const counts = await readCounts();
      QUEUE_NAMES.forEach((queue, i) => {
        for (const state of JOB_STATES) if (counts) this.set({ queue, state }, counts[i]?.[state] ?? 0);
      });
    },
  });
  new Gauge({
    name: 'evalbot_gateway_redis_up',
    help: '1 when this scrape could read the queues from Redis',
    registers: [registry],
    async collect() {
      this.set((await readCounts()) ? 1 : 0);
    },
  });
  new Gauge({
    name: 'evalbot_gateway_large_bodies_in_flight',
    help: 'Webhook bodies over LARGE_BODY_BYTES being read or handled now (at most MAX_LARGE_BODIES)',
    registers: [registry],
    collect() {
      this.set(opts.largeBodies.inFlight);
    },
  });
  app.decorate('metrics', { registry, deliveries, enqueueSeconds });
};

export default fp(metricsPlugin, { name: 'evalbot-metrics', dependencies: ['evalbot-job-producer'] });
