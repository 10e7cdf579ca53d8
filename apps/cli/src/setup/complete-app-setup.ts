import { type CreatedApp, convertManifestCode } from './convert-manifest-code.ts';
import { readEnvFile, updateEnvFile, writeSecretFile } from './env-file.ts';
import { missingServiceSecrets } from './service-secrets.ts';

export interface CompletedSetup {
  app: CreatedApp;
  /** The .env keys written (values not included: they are secrets). */
  keys: string[];
  envFile: string;
  privateKeyFile: string;
}

/**
 * The step after GitHub redirects back with `?code=`: convert the code into the new App's
 * credentials and store them. The private key goes to `privateKeyFile` (mode 0600), named by
 * `PRIVATE_KEY_PATH` in `envFile` (docker-compose.yml mounts that file into the worker alone);
 * `APP_ID` and `WEBHOOK_SECRET` go to `envFile`, with the Redis passwords and the dashboard
 * token `docker compose up` needs when `envFile` lacks them. An inline `PRIVATE_KEY` is removed
 * so the two cannot disagree; every other line is kept.
 */
export async function completeAppSetup(opts: {
  apiUrl: string;
  code: string;
  /** Absolute path of the .env file to update. */
  envFile: string;
  /** Absolute path of the PEM file to write. */
  privateKeyFile: string;
  fetch?: typeof fetch;
}): Promise<CompletedSetup> {
  const app = await convertManifestCode({
    apiUrl: opts.apiUrl,
    code: opts.code,
    ...(opts.fetch ? { fetch: opts.fetch } : {}),
  });
  const pem = app.pem.endsWith('\n') ? app.pem : `${app.pem}\n`;
  await writeSecretFile(opts.privateKeyFile, pem);
  const updates: Record<string, string | null> = {
    APP_ID: String(app.id),
    PRIVATE_KEY: null,
    PRIVATE_KEY_PATH: opts.privateKeyFile,
  };
  if (app.webhookSecret) updates.WEBHOOK_SECRET = app.webhookSecret;
  Object.assign(updates, missingServiceSecrets(await readEnvFile(opts.envFile)));
  await updateEnvFile(opts.envFile, updates);
  return {
    app,
    keys: Object.keys(updates).filter((key) => updates[key] !== null),
    envFile: opts.envFile,
    privateKeyFile: opts.privateKeyFile,
  };
}
