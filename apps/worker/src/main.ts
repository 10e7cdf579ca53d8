import { ConfigError } from '@evalbot/config';
import { SandboxUnavailableError } from '@evalbot/evaluator';
import { RedisAccessError } from '@evalbot/jobs';
import { createLogger } from '@evalbot/logger';
import { loadConfig } from './env.ts';
import { startWorker } from './start-worker.ts';

let config: ReturnType<typeof loadConfig>;
try {
  config = loadConfig();
} catch (error) {
  if (error instanceof ConfigError) {
    process.stderr.write(`evalbot worker: ${error.message}\n`);
    process.exit(78);
  }
  throw error;
}
const logger = createLogger({ service: 'evalbot-worker', level: config.logLevel });
let worker: Awaited<ReturnType<typeof startWorker>>;
try {
  worker = await startWorker({ config, logger });
} catch (error) {
  // Each is the operator's to fix, and the message says how; a stack trace would hide it.
  if (
    !(error instanceof ConfigError) &&
    !(error instanceof SandboxUnavailableError) &&
    !(error instanceof RedisAccessError)
  )
    throw error;
  process.stderr.write(`evalbot worker: ${error.message}\n`);
  process.exit(78);
}

let signals = 0;
for (const signal of ['SIGTERM', 'SIGINT'] as const) {
  process.on(signal, () => {
    signals += 1;
    if (signals > 1) process.exit(130);
    worker.close().then(
      () => process.exit(0),
      (error: unknown) => {
        logger.error({ err: error }, 'error while stopping');
        process.exit(1);
      },
    );
  });
}
