import { ConfigError } from '@evalbot/config';
import { createLogger } from '@evalbot/logger';
import { Redis } from 'ioredis';
import { buildApp } from './build-app.ts';
import { loadConfig } from './config.ts';

let config: ReturnType<typeof loadConfig>;
try {
  config = loadConfig(process.env);
} catch (error) {
  if (!(error instanceof ConfigError)) throw error;
  console.error(`evalbot dashboard: ${error.message}`);
  process.exit(78); // EX_CONFIG: a supervisor should not restart it until the configuration changes.
}

const logger = createLogger({ service: 'dashboard', level: config.logLevel });
const connection = new Redis(config.redisUrl, { maxRetriesPerRequest: null });
connection.on('error', (error) => logger.warn({ err: error }, 'Redis connection error'));

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
