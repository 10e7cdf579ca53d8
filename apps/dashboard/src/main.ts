import { ConfigError } from '@evalbot/config';
import { createRedisConnection, RedisAccessError, verifyRedisAccess, waitForRedisReady } from '@evalbot/jobs';
import { createLogger } from '@evalbot/logger';
import { buildApp } from './build-app.ts';
import { loadConfig } from './config.ts';

let config: ReturnType<typeof loadConfig>;
try {
  config = loadConfig(process.env);
} catch (error) {
  if (!(error instanceof ConfigError)) throw error;
  console.error(`evalbot dashboard: ${error.message}`);
  process.exit(78); // EX_CONFIG: tells a supervisor that the configuration, not the process, is at fault.
}

const logger = createLogger({ service: 'evalbot-dashboard', level: config.logLevel });
// Credentials Redis refuses stop the dashboard here, with one message; a Redis that is down is
// waited for (the page shows the error meanwhile).
let redisReachable = false;
try {
  redisReachable = await verifyRedisAccess(config.redis);
  if (!redisReachable) logger.warn('Redis is not reachable yet; the board shows an error until it is');
} catch (error) {
  if (!(error instanceof RedisAccessError)) throw error;
  console.error(`evalbot dashboard: ${error.message}`);
  process.exit(78);
}
// Fails fast while Redis is away, so the page shows an error instead of hanging.
const connection = createRedisConnection(config.redis, {
  role: 'producer',
  commandTimeoutMs: 5_000,
  connectionName: 'evalbot-dashboard',
  logger,
});

// The connection refuses commands until it is connected: listening before that answered the
// first requests 500 (a TLS handshake takes a while on a busy host).
if (redisReachable) {
  await waitForRedisReady(connection).catch((error: Error) =>
    logger.warn(
      { err: { message: error.message } },
      'Redis is slow to connect; the board shows an error until it does',
    ),
  );
}
const app = await buildApp({ config, connection, logger });
if (!config.credentials.basic && !config.credentials.token) {
  logger.warn(
    { host: config.host },
    'no DASHBOARD_USER/DASHBOARD_PASSWORD or DASHBOARD_TOKEN set: anyone on this machine can open the dashboard',
  );
}

let closing = false;
const shutdown = async (signal: string) => {
  if (closing) return;
  closing = true;
  logger.info({ signal }, 'shutting down');
  await app.close();
  await connection.quit().catch(() => connection.disconnect());
};
process.once('SIGTERM', () => void shutdown('SIGTERM'));
process.once('SIGINT', () => void shutdown('SIGINT'));

const address = await app.listen({ host: config.host, port: config.port });
logger.info(`dashboard listening on ${address}${config.basePath}`);
