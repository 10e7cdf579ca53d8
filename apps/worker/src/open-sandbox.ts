import {
  assertSandboxCanReach,
  createSandbox,
  resolvePython,
  type Sandbox,
  SandboxUnavailableError,
  sandboxLeaseSettings,
} from '@evalbot/evaluator';
import type { Logger } from '@evalbot/logger';
import type { WorkerConfig } from './env.ts';

/**
 * The sandbox PR code runs in, checked before the worker takes a job: a worker that cannot
 * contain PR code must not take one (SandboxUnavailableError says why). `'unsafe-none'` only
 * when EVALBOT_UNSAFE_NO_SANDBOX asks for it, said loudly in the log.
 */
export async function openSandbox(config: WorkerConfig, logger: Logger): Promise<Sandbox | 'unsafe-none'> {
  if (!config.sandbox) {
    logger.warn(
      "EVALBOT_UNSAFE_NO_SANDBOX is set: PR code runs WITHOUT a sandbox, as the worker's own user, with the network and the worker's files within reach. Use it only for local experiments with your own code",
    );
    return 'unsafe-none';
  }
  const sandbox = await createSandbox({
    ...config.sandbox,
    ...sandboxLeaseSettings(config.cacheDir, config.maxTimeoutMs),
  });
  const python = await resolvePython(config.python, process.env);
  await assertSandboxCanReach({
    workRoot: config.workDir,
    cacheDir: config.cacheDir,
    python: python.executable,
  }).catch((error: Error) => {
    throw new SandboxUnavailableError(error.message);
  });
  logger.info({ sandbox: sandbox.description, limits: sandbox.limits }, 'PR code runs in a sandbox');
  return sandbox;
}
