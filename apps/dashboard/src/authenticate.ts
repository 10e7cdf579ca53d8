import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { DashboardCredentials } from './config.ts';

const SESSION_COOKIE = 'evalbot_dashboard';
const REALM = 'evalbot dashboard';

/** Compare two secrets in time independent of where they differ (and of their lengths). */
function safeEqual(given: string, expected: string): boolean {
  const a = createHash('sha256').update(given).digest();
  const b = createHash('sha256').update(expected).digest();
  return timingSafeEqual(a, b);
}

/**
 * The cookie value that stands for the token: derived from it, so the token itself is never
 * stored by the browser, and it changes when the token is rotated.
 */
function sessionValue(token: string): string {
  return createHmac('sha256', token).update('evalbot-dashboard-session-v1').digest('base64url');
}

function readCookie(header: string | undefined, name: string): string | undefined {
  for (const part of (header ?? '').split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return undefined;
}

function checkBasic(header: string, basic: NonNullable<DashboardCredentials['basic']>): boolean {
  const decoded = Buffer.from(header.slice('basic '.length).trim(), 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon < 0) return false;
  // Both halves are always compared, so the answer's timing does not tell which one was wrong.
  const userOk = safeEqual(decoded.slice(0, colon), basic.user);
  const passwordOk = safeEqual(decoded.slice(colon + 1), basic.password);
  return userOk && passwordOk;
}

function isAuthenticated(request: FastifyRequest, credentials: DashboardCredentials): boolean {
  const authorization = request.headers.authorization ?? '';
  const scheme = authorization.slice(0, authorization.indexOf(' ')).toLowerCase();
  if (credentials.basic && scheme === 'basic') return checkBasic(authorization, credentials.basic);
  if (credentials.token) {
    if (scheme === 'bearer')
      return safeEqual(authorization.slice('bearer '.length).trim(), credentials.token);
    const cookie = readCookie(request.headers.cookie, SESSION_COOKIE);
    if (cookie) return safeEqual(cookie, sessionValue(credentials.token));
  }
  return false;
}

function refuse(reply: FastifyReply, credentials: DashboardCredentials) {
  const challenge = credentials.basic ? `Basic realm="${REALM}", charset="UTF-8"` : `Bearer realm="${REALM}"`;
  const how = credentials.basic
    ? 'sign in with DASHBOARD_USER and DASHBOARD_PASSWORD'
    : 'send DASHBOARD_TOKEN as "Authorization: Bearer <token>" or open the board once with ?token=<token>';
  return reply
    .code(401)
    .header('www-authenticate', challenge)
    .header('cache-control', 'no-store')
    .send({ error: 'Unauthorized', message: `The evalbot dashboard needs credentials: ${how}.` });
}

/**
 * Require credentials on every route except `publicPaths`. With a token, `?token=` on a page
 * sets a session cookie and redirects to the same URL without the token, so it does not linger
 * in the address bar, history or Referer headers. With no credentials configured (allowed only
 * on loopback) every request passes.
 */
export function registerAuthentication(
  app: FastifyInstance,
  opts: { credentials: DashboardCredentials; basePath: string; publicPaths: string[] },
): void {
  const { credentials, basePath, publicPaths } = opts;
  if (!credentials.basic && !credentials.token) return;

  app.addHook('onRequest', async (request, reply) => {
    const url = new URL(request.url, 'http://dashboard.invalid');
    if (publicPaths.includes(url.pathname)) return;

    const queryToken = url.searchParams.get('token');
    if (credentials.token && queryToken !== null && request.method === 'GET') {
      if (!safeEqual(queryToken, credentials.token)) return refuse(reply, credentials);
      url.searchParams.delete('token');
      const secure = request.protocol === 'https' ? '; Secure' : '';
      return reply
        .code(303)
        .header(
          'set-cookie',
          `${SESSION_COOKIE}=${sessionValue(credentials.token)}; Path=${basePath}; HttpOnly; SameSite=Strict${secure}`,
        )
        .header('cache-control', 'no-store')
        .redirect(`${url.pathname}${url.search}`, 303);
    }

    if (!isAuthenticated(request, credentials)) return refuse(reply, credentials);
  });
}

/**
 * Refuse state-changing requests sent by another site. Browsers attach Basic credentials and
 * cookies to cross-site requests on their own; this keeps a page elsewhere from retrying or
 * deleting jobs through a signed-in browser.
 */
export function registerCrossSiteGuard(app: FastifyInstance): void {
  app.addHook('onRequest', async (request, reply) => {
    if (request.method === 'GET' || request.method === 'HEAD' || request.method === 'OPTIONS') return;
    const fetchSite = request.headers['sec-fetch-site'];
    const origin = request.headers.origin;
    let crossSite = fetchSite === 'cross-site' || fetchSite === 'same-site';
    if (!crossSite && origin && origin !== 'null') {
      try {
        crossSite = new URL(origin).host !== request.headers.host;
      } catch {
        crossSite = true;
      }
    }
    if (crossSite) {
      return reply
        .code(403)
        .send({ error: 'Forbidden', message: 'The dashboard accepts changes only from its own pages.' });
    }
  });
}
