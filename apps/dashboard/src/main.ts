import { ConfigError } from '@evalbot/config';
import { createRedisConnection, RedisAccessError, verifyRedisAccess } from '@evalbot/jobs';
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
try {
  if (
    !(await verifyRedisAccess(config.redisUrl, { tlsCa: config.redisTlsCa, sentinel: config.redisSentinel }))
  ) {
    logger.warn('Redis is not reachable yet; the board shows an error until it is');
  }
} catch (error) {
  if (!(error instanceof RedisAccessError)) throw error;
  console.error(`evalbot dashboard: ${error.message}`);
  process.exit(78);
}
// Fails fast while Redis is away, so the page shows an error instead of hanging.
const connection = createRedisConnection(config.redisUrl, {
  role: 'producer',
  commandTimeoutMs: 5_000,
  connectionName: 'evalbot-dashboard',
  logger,
  ...(config.redisTlsCa ? { tlsCa: config.redisTlsCa } : {}),
  ...(config.redisSentinel ? { sentinel: config.redisSentinel } : {}),
});

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
