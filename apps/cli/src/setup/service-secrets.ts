import { randomBytes } from 'node:crypto';

/**
 * The secrets `docker compose up` needs besides the App's: a password for each app's Redis user
 * (docker-compose.yml starts Redis with them) and a dashboard token (compose binds the dashboard
 * beyond loopback in its container, where it refuses to start without credentials).
 */
export const SERVICE_SECRETS = [
  'REDIS_GATEWAY_PASSWORD',
  'REDIS_WORKER_PASSWORD',
  'REDIS_DASHBOARD_PASSWORD',
  'DASHBOARD_TOKEN',
] as const;

/**
 * A fresh value for each of {@link SERVICE_SECRETS} that `current` (the .env as it is) lacks.
 * Values already set are kept: changing a Redis password means restarting every service, which
 * running setup again for a new App should not impose. Hex: safe in a URL and in .env unquoted.
 */
export function missingServiceSecrets(current: Record<string, string | undefined>): Record<string, string> {
  const added: Record<string, string> = {};
  for (const name of SERVICE_SECRETS) {
    if (!current[name]?.trim()) added[name] = randomBytes(24).toString('hex');
  }
  return added;
}
