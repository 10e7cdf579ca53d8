import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import { z } from 'zod';
import { envInt, envOptionalId } from './fields.ts';

/** The gateway's webhook path unless `WEBHOOK_PATH` says otherwise; Probot's. */
export const DEFAULT_WEBHOOK_PATH = '/api/github/webhooks';

/**
 * Where the gateway takes webhooks: `PORT` (3000) and `WEBHOOK_PATH` ({@link DEFAULT_WEBHOOK_PATH}),
 * DESIGN.md's defaults. The gateway listens there; `evalbot replay` sends there unless given a URL.
 */
export const webhookEndpointEnv = {
  PORT: envInt({ default: 3000, min: 0, max: 65_535 }),
  WEBHOOK_PATH: z
    .string()
    .default(DEFAULT_WEBHOOK_PATH)
    .refine(
      (v) => /^\/[^\s?#]*$/.test(v),
      `must be a URL path starting with /, e.g. ${DEFAULT_WEBHOOK_PATH}`,
    ),
};

/**
 * `APP_ID` where it is optional (`evalbot replay` names the App in its delivery headers when it
 * is set); where the App must authenticate, `loadGitHubAppCredentials` requires it.
 */
export const optionalAppIdEnv = {
  APP_ID: envOptionalId('not a positive whole number; copy it from the App settings page'),
};

/**
 * The worker's directories, which `evalbot compare` uses too so that both share what they build
 * on one machine: `EVALBOT_WORK_DIR` (job directories; `evalbot-work` in the system temp dir) and
 * `EVALBOT_CACHE_DIR` (cached virtual environments; `~/.cache/evalbot`, or `/var/cache/evalbot`
 * as root, since a root worker's home is not reachable by the sandbox uids that read them).
 */
export const workDirsEnv = {
  // Worked out when the environment is read, not when this module loads.
  EVALBOT_WORK_DIR: z.string().default(() => join(tmpdir(), 'evalbot-work')),
  EVALBOT_CACHE_DIR: z
    .string()
    .default(() => (process.getuid?.() === 0 ? '/var/cache/evalbot' : join(homedir(), '.cache', 'evalbot'))),
};
