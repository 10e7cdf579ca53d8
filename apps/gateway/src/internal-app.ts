import type { Logger } from '@evalbot/logger';
import Fastify, { type FastifyBaseLogger, type FastifyInstance, LogController } from 'fastify';
import type { GatewayConfig } from './config.ts';
import { livenessRoute, readinessRoute } from './health-routes.ts';
import { serverTimeouts } from './server-timeouts.ts';

/**
 * The gateway's internal app, for the operator's scraper and probes: `GET /metrics`,
 * `GET /readyz`, `GET /healthz`, to listen on `GATEWAY_METRICS_PORT` (loopback by default, the
 * compose network in Docker), never on the public webhook port. It reads the metrics and the
 * Redis connection of `gateway` (from {@link buildApp}); close it before `gateway`.
 */
export async function buildInternalApp(
  gateway: FastifyInstance,
  opts: { config: GatewayConfig; logger: Logger },
): Promise<FastifyInstance> {
  const loggerInstance: FastifyBaseLogger = opts.logger;
  const app = Fastify({
    loggerInstance,
    ...serverTimeouts(opts.config),
    // Probes and scrapes every few seconds would drown the deliveries.
    logController: new LogController({ disableRequestLogging: true }),
    return503OnClosing: true,
  });
  const timeoutMs = Math.min(opts.config.enqueueTimeoutMs, 1_000);
  await app.register(livenessRoute);
  await app.register(readinessRoute, { redis: gateway.jobProducer.connection, timeoutMs });
  const { registry } = gateway.metrics;
  app.get('/metrics', async (_request, reply) => {
    reply.type(registry.contentType);
    return registry.metrics();
  });
  return app;
}
