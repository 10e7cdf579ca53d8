import { createServer, type Server } from 'node:http';
import { ConfigError } from '@evalbot/config';
import { QUEUE_NAMES } from '@evalbot/jobs';
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';

/** GitHub's rate limits: the hourly quota (primary) and the secondary limits, which send `retry-after`. */
const RATE_LIMITS = ['primary', 'secondary'] as const;
export type RateLimit = (typeof RATE_LIMITS)[number];

/** What the recovery job does with each failed delivery it finds (`recover-missed-deliveries.ts`). */
const RECOVERY_OUTCOMES = ['redelivered', 'recorded', 'already_asked', 'gave_up', 'error'] as const;
export type RecoveryOutcome = (typeof RECOVERY_OUTCOMES)[number];

/** How a job found its shared Python environment (the evaluator's `onEnvironmentCache`). */
const ENVIRONMENT_CACHE_RESULTS = ['hit', 'derived', 'miss'] as const;
export type EnvironmentCacheResult = (typeof ENVIRONMENT_CACHE_RESULTS)[number];

/** Whether a successful side's result was reused from the same content or trained. */
const RESULT_CACHE_RESULTS = ['hit', 'miss'] as const;

export interface WorkerMetricsOptions {
  /** The bound of the cached environments (`EVALBOT_CACHE_MAX_GB` in bytes); 0: unbounded. */
  environmentCacheMaxBytes: number;
}

const labelsOf = <L extends string>(values?: Record<L, readonly string[]>) =>
  Object.keys(values ?? {}) as L[];

/** Every combination of the label values: `{limit: primary, where: client}`, `{limit: primary, where: queue}`... */
function combinations<L extends string>(values: Record<L, readonly string[]>): Record<L, string>[] {
  return Object.entries<readonly string[]>(values).reduce<Record<string, string>[]>(
    (partial, [label, labelValues]) =>
      partial.flatMap((combination) => labelValues.map((value) => ({ ...combination, [label]: value }))),
    [{}],
  ) as Record<L, string>[];
}

/**
 * Prometheus metrics of one worker process, served on WORKER_METRICS_PORT at /metrics: the
 * process's own (CPU, memory, event-loop lag, open handles: prom-client's defaults), jobs,
 * stages, GitHub rate-limit waits and the environment cache.
 */
export class WorkerMetrics {
  readonly registry = new Registry();
  readonly runningJobs = this.gauge(
    'evalbot_worker_running_jobs',
    'Jobs this worker is processing now, by queue',
    {
      queue: QUEUE_NAMES,
    },
  );
  readonly rateLimitWaits = this.counter(
    'evalbot_worker_github_rate_limit_waits_total',
    'Waits for a GitHub rate limit: in the client before a retry (where=client), or a job put back until the limit ends (where=queue)',
    { limit: RATE_LIMITS, where: ['client', 'queue'] },
  );
  readonly environmentCache = this.counter(
    'evalbot_worker_env_cache_total',
    'Shared Python environments wanted by a job: found in the cache (hit), derived from a cached one by installing only the difference (derived) or built (miss)',
    { result: ENVIRONMENT_CACHE_RESULTS },
  );
  readonly environmentCacheBytes = this.gauge(
    'evalbot_worker_env_cache_bytes',
    "Size of this host's cached Python environments after the last build and eviction",
  );
  readonly environmentCacheEvictions = this.counter(
    'evalbot_worker_env_cache_evictions_total',
    'Cached environments removed, least recently used first, to stay under EVALBOT_CACHE_MAX_GB',
  );
  readonly resultCache = this.counter(
    'evalbot_worker_result_cache_total',
    'Successful side results: reused from an earlier evaluation of the same content (hit) or trained (miss)',
    { result: RESULT_CACHE_RESULTS },
  );
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
  readonly recoveredDeliveries = this.counter(
    'evalbot_worker_delivery_recovery_total',
    'Failed GitHub deliveries seen by the recovery job: redelivered (asked GitHub to send again), recorded (failed at GitHub but in the delivery log), already_asked (its redelivery not attempted yet), gave_up (failed after every redelivery asked), error (GitHub refused the redelivery)',
    { outcome: RECOVERY_OUTCOMES },
  );

  constructor(opts: WorkerMetricsOptions) {
    collectDefaultMetrics({ register: this.registry });
    // A bound fixed by the configuration: known before any job builds an environment.
    this.gauge(
      'evalbot_worker_env_cache_max_bytes',
      'The bound of the cached environments (EVALBOT_CACHE_MAX_GB); 0: unbounded',
    ).set(opts.environmentCacheMaxBytes);
  }

  /** A counter with each combination of `values` at 0, so a rate over it exists before the first event. */
  private counter<L extends string = never>(
    name: string,
    help: string,
    values?: Record<L, readonly string[]>,
  ) {
    const counter = new Counter<L>({ name, help, labelNames: labelsOf(values), registers: [this.registry] });
    if (values) for (const labels of combinations(values)) counter.inc(labels, 0);
    else counter.inc(0);
    return counter;
  }

  /** A gauge with each combination of `values` at 0. */
  private gauge<L extends string = never>(name: string, help: string, values?: Record<L, readonly string[]>) {
    const gauge = new Gauge<L>({ name, help, labelNames: labelsOf(values), registers: [this.registry] });
    if (values) for (const labels of combinations(values)) gauge.set(labels, 0);
    return gauge;
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
