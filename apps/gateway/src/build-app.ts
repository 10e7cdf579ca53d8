import type { Logger } from '@evalbot/logger';
import Fastify, { type FastifyBaseLogger, type FastifyInstance, LogController } from 'fastify';
import type { Redis } from 'ioredis';
import { BODY_LIMIT_BYTES } from './body-limits.ts';
import type { GatewayConfig } from './config.ts';
import { livenessRoute } from './health-routes.ts';
import jobProducerPlugin from './job-producer-plugin.ts';
import { LargeBodyGate } from './large-body-gate.ts';
import metricsPlugin from './metrics-plugin.ts';
import { serverTimeouts } from './server-timeouts.ts';
import { answerUnknownPaths } from './unknown-paths.ts';
import webhookRoute from './webhook-route.ts';

export interface GatewayDeps {
  config: GatewayConfig;
  logger: Logger;
  /** A Redis connection to use instead of opening one to `config.redis` (not closed by the app). */
  redis?: Redis;
  /** The clock stamped on requests; tests pass a fixed one. */
  now?: () => Date;
}

/**
 * The gateway's public app as a Fastify instance, not yet listening: `await app.listen(...)`
 * serves it, `app.inject(...)` tests it, `app.close()` closes Redis. It serves only
 * `WEBHOOK_PATH` and `/healthz`; `/metrics` and `/readyz` are on {@link buildInternalApp}'s
 * port. Makes no GitHub API call, runs no git.
 */
export async function buildApp(deps: GatewayDeps): Promise<FastifyInstance> {
  const { config } = deps;
  // Typed as Fastify's base logger so the instance keeps Fastify's default generics.
  const loggerInstance: FastifyBaseLogger = deps.logger;
  const app = Fastify({
    loggerInstance,
    bodyLimit: BODY_LIMIT_BYTES,
    ...serverTimeouts(config),
    // Every log line of a delivery carries its X-GitHub-Delivery.
    requestIdHeader: 'x-github-delivery',
    logController: new LogController({
      requestIdLogLabel: 'deliveryId',
      // No 'incoming request' / 'request completed' pair: the webhook route writes one line per
      // delivery with its outcome and time (a third of the log writes under load), and probes
      // and scrapes every few seconds would drown the deliveries.
      disableRequestLogging: true,
    }),
    return503OnClosing: true,
  });
  // A client holds at most LARGE_BODY_BYTES unless it has a large-body slot: with this cap,
  // unverified clients make the gateway hold at most about
  // MAX_CONNECTIONS × LARGE_BODY_BYTES + MAX_LARGE_BODIES × 25 MB.
  app.server.maxConnections = config.maxConnections;
  answerUnknownPaths(app, config.webhookPath);
  await app.register(jobProducerPlugin, {
    redis: config.redis,
    prefix: config.bullmqPrefix,
    commandTimeoutMs: config.enqueueTimeoutMs,
    connection: deps.redis,
  });
  const largeBodies = new LargeBodyGate(config.maxLargeBodies);
  await app.register(metricsPlugin, {
    scrapeTimeoutMs: Math.min(config.enqueueTimeoutMs, 1_000),
    largeBodies,
  });
  await app.register(livenessRoute);
  await app.register(webhookRoute, { config, now: deps.now ?? (() => new Date()), largeBodies });
  return app;
}
