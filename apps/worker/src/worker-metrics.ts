import { createServer, type Server } from 'node:http';
import { ConfigError } from '@evalbot/config';
import { Counter, Histogram, Registry } from 'prom-client';

/** Prometheus metrics of one worker process, served on WORKER_METRICS_PORT at /metrics. */
export class WorkerMetrics {
  readonly registry = new Registry();
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
