import { randomBytes } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { readBody } from './http-kit.ts';
import type { SimState } from './sim-state.ts';

/**
 * The browser half of the App-manifest flow: `POST /settings/apps/new?state=…` (or
 * `/organizations/:org/settings/apps/new`) with a `manifest` form field. GitHub would show a
 * confirmation page; the sim accepts at once and redirects to the manifest's `redirect_url`
 * with a one-time `code` for `POST /app-manifests/{code}/conversions`.
 * Returns false when the path is not a web route the sim knows.
 */
export async function serveWebRoute(
  req: IncomingMessage,
  res: ServerResponse,
  url: URL,
  state: SimState,
): Promise<boolean> {
  if (!/^\/(organizations\/[^/]+\/)?settings\/apps\/new\/?$/.test(url.pathname)) return false;
  const form = new URLSearchParams(
    req.method === 'POST' ? (await readBody(req, 1_000_000)).toString('utf8') : url.searchParams.toString(),
  );
  const raw = form.get('manifest');
  let manifest: Record<string, unknown>;
  try {
    manifest = JSON.parse(raw ?? '') as Record<string, unknown>;
  } catch {
    res.writeHead(400, { 'content-type': 'text/plain; charset=utf-8' });
    res.end('Invalid GitHub App configuration: the "manifest" field must be JSON.\n');
    return true;
  }
  const code = registerManifestCode(state, {
    name: typeof manifest.name === 'string' ? manifest.name : undefined,
    url: typeof manifest.url === 'string' ? manifest.url : undefined,
    manifest,
  });
  const redirect = typeof manifest.redirect_url === 'string' ? manifest.redirect_url : undefined;
  if (!redirect) {
    res.writeHead(200, { 'content-type': 'application/json; charset=utf-8' });
    res.end(JSON.stringify({ code }));
    return true;
  }
  const target = new URL(redirect);
  target.searchParams.set('code', code);
  const stateParam = url.searchParams.get('state');
  if (stateParam) target.searchParams.set('state', stateParam);
  res.writeHead(302, { location: target.toString() });
  res.end();
  return true;
}

/** Register a one-time manifest code; returns it. */
export function registerManifestCode(
  state: SimState,
  registration: {
    code?: string;
    name?: string;
    url?: string;
    webhookSecret?: string;
    manifest?: Record<string, unknown>;
  },
): string {
  const { code = randomBytes(10).toString('hex'), ...rest } = registration;
  state.manifestCodes.set(code, rest);
  return code;
}
