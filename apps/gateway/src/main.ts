import { ConfigError } from '@evalbot/config';
import { RedisAccessError, verifyRedisAccess, waitForRedisReady } from '@evalbot/jobs';
import { asyncStdout, createLogger } from '@evalbot/logger';
import { buildApp } from './build-app.ts';
import { loadConfig } from './config.ts';
import { buildInternalApp } from './internal-app.ts';

let config: ReturnType<typeof loadConfig>;
try {
  config = loadConfig(process.env);
} catch (error) {
  if (!(error instanceof ConfigError)) throw error;
  process.stderr.write(`evalbot gateway: ${error.message}\n`);
  // 78 (EX_CONFIG), as the worker and the dashboard: a supervisor can tell it from a crash.
  process.exit(78);
}

// Log lines are written off the request path; what is still buffered is flushed on exit.
const logger = createLogger({
  service: 'evalbot-gateway',
  level: config.logLevel,
  destination: asyncStdout(),
});
// A wrong password or an untrusted certificate stops the gateway here, with one message, instead
// of answering every delivery 503 while it reconnects forever. A Redis that is merely down is
// waited for: the gateway answers 503 until it is back.
let redisReachable = false;
try {
  redisReachable = await verifyRedisAccess(config.redis);
  if (!redisReachable) logger.warn('Redis is not reachable yet; answering 503 until it is');
} catch (error) {
  if (!(error instanceof RedisAccessError)) throw error;
  process.stderr.write(`evalbot gateway: ${error.message}\n`);
  process.exit(78);
}
const app = await buildApp({ config, logger });
// The producer's connection refuses commands until it is connected: listening before that
// answered the first deliveries 503 (a TLS handshake takes a while on a busy host).
if (redisReachable) {
  await waitForRedisReady(app.jobProducer.connection).catch((error: Error) =>
    logger.warn({ err: { message: error.message } }, 'Redis is slow to connect; answering 503 until it does'),
  );
}
const internal = config.metricsPort === 0 ? undefined : await buildInternalApp(app, { config, logger });
try {
  await app.listen({ port: config.port, host: config.host });
  // The internal port last: once /readyz answers, the webhook port listens too.
  await internal?.listen({ port: config.metricsPort, host: config.metricsHost });
} catch (error) {
  // A port in use, a host that is not this machine's: said in the log before the exit.
  logger.fatal({ err: error }, 'gateway could not listen');
  await new Promise<void>((resolve) => logger.flush(() => resolve()));
  process.exit(1);
}
logger.info(
  {
    webhookPath: config.webhookPath,
    prefix: config.bullmqPrefix,
    metrics: internal ? `${config.metricsHost}:${config.metricsPort}` : 'off',
  },
  'gateway ready for deliveries',
);

/**
 * Exit once the log lines are written. The destination writes asynchronously, and pino's own
 * flush on exit skips a write already on its way: `process.exit` right after a line lost it.
 */
function exitOnceLogged(code: number): void {
  // The code holds even if the flush never calls back and the process ends on its own.
  process.exitCode = code;
  const fallback = setTimeout(() => process.exit(code), 2_000);
  fallback.unref();
  logger.flush(() => process.exit(code));
}

let closing = false;
for (const signal of ['SIGTERM', 'SIGINT'] as const) {
  process.once(signal, () => {
    if (closing) return;
    closing = true;
    logger.info({ signal }, 'closing: finishing the deliveries in flight');
    // The internal port first: /readyz stops answering while the deliveries in flight finish.
    Promise.resolve(internal?.close())
      .then(() => app.close())
      .then(
        () => {
          logger.info({ signal }, 'closed');
          exitOnceLogged(0);
        },
        (error: unknown) => {
          logger.error({ err: error }, 'close failed');
          exitOnceLogged(1);
        },
      );
  });
}
