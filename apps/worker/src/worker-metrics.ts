import { createServer, type Server } from 'node:http';
import { ConfigError } from '@evalbot/config';
import { QUEUE_NAMES } from '@evalbot/jobs';
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';

/**
 * Prometheus metrics of one worker process, served on WORKER_METRICS_PORT at /metrics: the
 * process's own (CPU, memory, event-loop lag, open handles: prom-client's defaults), jobs,
 * stages, GitHub rate-limit waits and the environment cache.
 */
export class WorkerMetrics {
  readonly registry = new Registry();
  readonly runningJobs = new Gauge({
    name: 'evalbot_worker_running_jobs',
    help: 'Jobs this worker is processing now, by queue',
    labelNames: ['queue'] as const,
    registers: [this.registry],
  });
  readonly rateLimitWaits = new Counter({
    name: 'evalbot_worker_github_rate_limit_waits_total',
    help: 'Waits for a GitHub rate limit: in the client before a retry (where=client), or a job put back until the limit ends (where=queue)',
    labelNames: ['limit', 'where'] as const,
    registers: [this.registry],
  });
  readonly environmentCache = new Counter({
    name: 'evalbot_worker_env_cache_total',
    help: 'Shared Python environments wanted by a job: found in the cache (hit), derived from a cached one by installing only the difference (derived) or built (miss)',
    labelNames: ['result'] as const,
    registers: [this.registry],
  });
  readonly environmentCacheBytes = new Gauge({
    name: 'evalbot_worker_env_cache_bytes',
    help: "Size of this host's cached Python environments after the last build and eviction",
    registers: [this.registry],
  });
  readonly environmentCacheMaxBytes = new Gauge({
    name: 'evalbot_worker_env_cache_max_bytes',
    help: 'The bound of the cached environments (EVALBOT_CACHE_MAX_GB); 0: unbounded',
    registers: [this.registry],
  });
  readonly environmentCacheEvictions = new Counter({
    name: 'evalbot_worker_env_cache_evictions_total',
    help: 'Cached environments removed, least recently used first, to stay under EVALBOT_CACHE_MAX_GB',
    registers: [this.registry],
  });
  readonly resultCache = new Counter({
    name: 'evalbot_worker_result_cache_total',
    help: 'Successful side results: reused from an earlier evaluation of the same content (hit) or trained (miss)',
    labelNames: ['result'] as const,
    registers: [this.registry],
  });
  readonly jobs = new Counter({
    name: 'evalbot_worker_jobs_total',
    help: 'Jobs processed, by queue and outcome',
    labelNames: ['queue', 'outcome'] as const,
    registers: [this.registry],
  });
  readonly stageSeconds = new Histogram({
    name: 'evalbot_worker_stage_seconds',
    help: 'Duration of evaluation stages (clone, config, setup, run, metrics)',
    labelNames: ['stage'] as const,
    buckets: [0.5, 1, 2, 5, 10, 30, 60, 120, 300, 600, 1800, 3600],
    registers: [this.registry],
  });
  readonly queueWaitSeconds = new Histogram({
    name: 'evalbot_worker_queue_wait_seconds',
    help: 'Time from enqueue to a worker starting the job',
    labelNames: ['queue'] as const,
    buckets: [0.01, 0.05, 0.1, 0.5, 1, 5, 15, 60, 300, 900],
    registers: [this.registry],
  });

  readonly recoveredDeliveries = new Counter({
    name: 'evalbot_worker_delivery_recovery_total',
    help: 'Failed GitHub deliveries seen by the recovery job: redelivered (asked GitHub to send again), recorded (failed at GitHub but in the delivery log), already_asked (its redelivery not attempted yet), gave_up (failed after every redelivery asked), error (GitHub refused the redelivery)',
    labelNames: ['outcome'] as const,
    registers: [this.registry],
  });

  constructor() {
    collectDefaultMetrics({ register: this.registry });
    for (const queue of QUEUE_NAMES) this.runningJobs.set({ queue }, 0);
    for (const result of ['hit', 'derived', 'miss']) this.environmentCache.inc({ result }, 0);
    for (const result of ['hit', 'miss']) this.resultCache.inc({ result }, 0);
    this.environmentCacheEvictions.inc(0);
    for (const outcome of ['redelivered', 'recorded', 'already_asked', 'gave_up', 'error'])
      this.recoveredDeliveries.inc({ outcome }, 0);
    for (const limit of ['primary', 'secondary']) {
      for (const where of ['client', 'queue']) this.rateLimitWaits.inc({ limit, where }, 0);
    }
  }

  /**
   * Serve /metrics; resolves with the server once listening (port 0 picks a free port). A port
   * already taken is a configuration error (exit 78), not a crash.
   */
  listen(port: number, host: string): Promise<Server> {
    const server = createServer((req, res) => {
      if (req.url !== '/metrics') {
        res.writeHead(404, { 'content-type': 'text/plain' }).end('not found; try /metrics\n');
        return;
      }
      this.registry.metrics().then(
        (body) => res.writeHead(200, { 'content-type': this.registry.contentType }).end(body),
        (error: Error) => res.writeHead(500, { 'content-type': 'text/plain' }).end(error.message),
      );
    });
    return new Promise((resolve, reject) => {
      server.once('error', (error: NodeJS.ErrnoException) => {
        if (error.code !== 'EADDRINUSE') return reject(error);
        reject(
          new ConfigError([
            {
              variable: 'WORKER_METRICS_PORT',
              problem: `port ${port} on ${host} is taken (another worker on this host?): give each worker process its own port, or 0 to turn /metrics off`,
            },
          ]),
        );
      });
      server.listen(port, host, () => resolve(server));
    });
  }
}
