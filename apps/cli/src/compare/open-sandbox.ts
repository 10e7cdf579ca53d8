import { ConfigError, type Env, parseEnv, sandboxEnv, sandboxSettingsOf } from '@evalbot/config';
import {
  createSandbox,
  type Sandbox,
  SandboxUnavailableError,
  sandboxLeaseSettings,
} from '@evalbot/evaluator';
import { z } from 'zod';
import { CliError } from '../cli-context.ts';

/**
 * The sandbox both commits run in, from the same variables as the worker's
 * (`EVALBOT_SANDBOX_*`, `EVALBOT_UNSAFE_NO_SANDBOX`), leasing uids beside the cache directory
 * as a worker with that cache directory does, so the two never share a uid.
 */
export async function openSandbox(opts: {
  env: Env;
  cacheDir: string;
  maxTimeoutMs: number;
  warn: (line: string) => void;
}): Promise<Sandbox | 'unsafe-none'> {
  let settings: ReturnType<typeof sandboxSettingsOf>;
  try {
    settings = sandboxSettingsOf(parseEnv(z.object(sandboxEnv), opts.env));
  } catch (error) {
    if (error instanceof ConfigError) throw new CliError(error.message, 2);
    throw error;
  }
  if (!settings) {
    opts.warn(
      'Warning: EVALBOT_UNSAFE_NO_SANDBOX is set: both commits run WITHOUT a sandbox, as you, with the network and your files within reach.',
    );
    return 'unsafe-none';
  }
  try {
    return await createSandbox({
      ...settings,
      ...sandboxLeaseSettings(opts.cacheDir, opts.maxTimeoutMs),
    });
  } catch (error) {
    if (error instanceof SandboxUnavailableError) throw new CliError(error.message);
    throw error;
  }
}
