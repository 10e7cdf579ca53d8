import { type CreatedApp, convertManifestCode } from './convert-manifest-code.ts';
import { updateEnvFile, writeSecretFile } from './env-file.ts';

export interface CompletedSetup {
  app: CreatedApp;
  /** The .env keys written (values not included: they are secrets). */
  keys: string[];
  envFile: string;
  privateKeyFile?: string;
}

/**
 * The step after GitHub redirects back with `?code=`: convert the code into the new App's
 * credentials and store them. `APP_ID` and `WEBHOOK_SECRET` go to `envFile`; the private key
 * goes there too as `PRIVATE_KEY` (one line, `\n` for line breaks), or, with `privateKeyFile`,
 * to that PEM file (mode 0600) with `PRIVATE_KEY_PATH` pointing at it. The key not chosen is
 * removed from `envFile` so the two cannot disagree; every other line is kept.
 */
export async function completeAppSetup(opts: {
  apiUrl: string;
  code: string;
  /** Absolute path of the .env file to update. */
  envFile: string;
  /** Absolute path of the PEM file to write; by default the key goes into `envFile`. */
  privateKeyFile?: string;
  fetch?: typeof fetch;
}): Promise<CompletedSetup> {
  const app = await convertManifestCode({
    apiUrl: opts.apiUrl,
    code: opts.code,
    ...(opts.fetch ? { fetch: opts.fetch } : {}),
  });
  const pem = app.pem.endsWith('\n') ? app.pem : `${app.pem}\n`;
  const updates: Record<string, string | null> = { APP_ID: String(app.id) };
  if (opts.privateKeyFile) {
    await writeSecretFile(opts.privateKeyFile, pem);
    updates.PRIVATE_KEY = null;
    updates.PRIVATE_KEY_PATH = opts.privateKeyFile;
  } else {
    updates.PRIVATE_KEY = pem.trimEnd();
    updates.PRIVATE_KEY_PATH = null;
  }
  if (app.webhookSecret) updates.WEBHOOK_SECRET = app.webhookSecret;
  await updateEnvFile(opts.envFile, updates);
  return {
    app,
    keys: Object.keys(updates).filter((key) => updates[key] !== null),
    envFile: opts.envFile,
    ...(opts.privateKeyFile ? { privateKeyFile: opts.privateKeyFile } : {}),
  };
}
