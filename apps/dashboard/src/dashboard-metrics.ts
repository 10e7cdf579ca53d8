import { JOB_STATES } from '@evalbot/jobs';
import type { Queue } from 'bullmq';
import { collectDefaultMetrics, Gauge, Registry } from 'prom-client';

/**
 * The dashboard's Prometheus metrics: the process's own (as every evalbot service has) and the
 * number of jobs in each state of each queue, read from Redis when scraped, so one scrape of the
 * one dashboard tells queue depth without asking every worker.
 */
export function createDashboardMetrics(queues: Queue[]): Registry {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  new Gauge({
    name: 'evalbot_queue_jobs',
    help: 'Jobs in each state of each queue, read from Redis when scraped',
    labelNames: ['queue', 'state'] as const,
    registers: [registry],
    async collect() {
      for (const queue of queues) {
        const counts = await queue.getJobCounts(...JOB_STATES);
        for (const state of JOB_STATES) this.set({ queue: queue.name, state }, counts[state] ?? 0);
      }
    },
  });
  return registry;
}
