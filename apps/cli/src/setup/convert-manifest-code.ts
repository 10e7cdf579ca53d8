import { CliError } from '../cli-context.ts';

/** The App GitHub created, with its credentials (`POST /app-manifests/{code}/conversions`). */
export interface CreatedApp {
  id: number;
  slug: string;
  name: string;
  htmlUrl: string;
  pem: string;
  webhookSecret: string | null;
  clientId: string;
}

/**
 * Exchange the one-time code GitHub sent back for the new App's id, private key and webhook
 * secret. The code expires after an hour and works once.
 */
export async function convertManifestCode(opts: {
  apiUrl: string;
  code: string;
  fetch?: typeof fetch;
}): Promise<CreatedApp> {
  const url = `${opts.apiUrl.replace(/\/+$/, '')}/app-manifests/${encodeURIComponent(opts.code)}/conversions`;
  let response: Response;
  try {
    response = await (opts.fetch ?? fetch)(url, {
      method: 'POST',
      headers: {
        accept: 'application/vnd.github+json',
        'x-github-api-version': '2022-11-28',
        'user-agent': 'evalbot-setup',
      },
    });
  } catch (error) {
    throw new CliError(`cannot reach ${url}: ${(error as Error).message}; check GITHUB_API_URL`);
  }
  const text = await response.text();
  if (response.status !== 201 && response.status !== 200) {
    const hint =
      response.status === 404
        ? ' (the code is unknown, already used or more than an hour old: run evalbot setup again)'
        : '';
    throw new CliError(
      `GitHub refused the manifest code: HTTP ${response.status}${hint}: ${text.slice(0, 300)}`,
    );
  }
  const body = JSON.parse(text) as Record<string, unknown>;
  if (typeof body.id !== 'number' || typeof body.pem !== 'string') {
    throw new CliError(`GitHub's answer has no App id or private key: ${Object.keys(body).join(', ')}`);
  }
  return {
    id: body.id,
    slug: String(body.slug ?? ''),
    name: String(body.name ?? ''),
    htmlUrl: String(body.html_url ?? ''),
    pem: body.pem,
    webhookSecret: typeof body.webhook_secret === 'string' ? body.webhook_secret : null,
    clientId: String(body.client_id ?? ''),
  };
}
