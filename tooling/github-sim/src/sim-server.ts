import { randomBytes } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from '@evalbot/logger';
import type { ApiRouter, SimSettings } from './api-router.ts';
import {
  type Caller,
  credentialOf,
  identifyCaller,
  installationTokenOf,
  tokenCovers,
} from './caller-auth.ts';
import type { FaultEffect, FaultInjector } from './faults.ts';
import { serveGitCgi } from './git-http-backend.ts';
import type { GitRepos } from './git-repos.ts';
import { type ApiResult, parseJsonBody, readBody, SimHttpError } from './http-kit.ts';
import { type PermissionNeed, tokenGrants } from './permissions.ts';
import type { RateLimits } from './rate-limits.ts';
import { authKind, loggableHeaders, type RequestLog } from './request-log.ts';
import type { SimState, SimUrls } from './sim-state.ts';
import { serveWebRoute } from './web-routes.ts';

/** What a token needs to clone: `contents: read`. */
const CONTENTS_READ: PermissionNeed = [['contents', 'read']];

export const API_PREFIX = '/api/v3';
const GIT_PATH =
  /^\/([^/]+)\/([^/]+?)(?:\.git)?\/(info\/refs|git-upload-pack|git-receive-pack|HEAD|objects\/.+)$/;
const SECONDARY_MESSAGE =
  'You have exceeded a secondary rate limit. Please wait a few minutes before you try again. If you reach out to GitHub Support for help, please include the request ID';

export interface SimServerDeps {
  state: SimState;
  urls: SimUrls;
  settings: SimSettings;
  git: GitRepos;
  gitRoot: string;
  router: ApiRouter;
  faults: FaultInjector;
  requests: RequestLog;
  rateLimits: RateLimits;
  logger?: Logger;
}

type Surface = 'api' | 'git' | 'web';

/** The sim's request handler: records, injects faults, then answers as the REST API, git, or the web UI. */
export function createSimHandler(deps: SimServerDeps) {
  return (req: IncomingMessage, res: ServerResponse) => {
    const startedAt = Date.now();
    const url = new URL(req.url ?? '/', deps.urls.web);
    const method = (req.method ?? 'GET').toUpperCase();
    const isApi = url.pathname === API_PREFIX || url.pathname.startsWith(`${API_PREFIX}/`);
    const path = isApi ? url.pathname.slice(API_PREFIX.length) || '/' : url.pathname;
    const surface: Surface = isApi ? 'api' : GIT_PATH.test(path) ? 'git' : 'web';
    let faultName: string | undefined;
    res.once('finish', () => {
      deps.requests.add({
        method,
        path,
        query: url.search.replace(/^\?/, ''),
        surface,
        status: res.statusCode,
        headers: loggableHeaders(req.headers),
        auth: authKind(req.headers.authorization),
        ...(faultName ? { fault: faultName } : {}),
        startedAt,
        durationMs: Date.now() - startedAt,
      });
    });
    const requestId =
      `${randomBytes(2).toString('hex')}:${randomBytes(3).toString('hex')}:${randomBytes(4).toString('hex')}`.toUpperCase();
    res.setHeader('date', new Date(deps.state.clock()).toUTCString());
    res.setHeader('x-github-request-id', requestId);

    const run = async () => {
      const fault = deps.faults.take(method, path);
      if (fault) {
        faultName = fault.kind;
        if (fault.kind === 'delay') await new Promise((r) => setTimeout(r, fault.ms));
        else return sendFault(res, fault, surface, requestId, deps);
      }
      if (surface === 'api') return serveApi(req, res, url, method, path, deps);
      if (surface === 'git') return serveGit(req, res, url, path, deps);
      if (await serveWebRoute(req, res, url, deps.state)) return;
      sendText(res, 404, 'Not Found');
    };
    run().catch((error: unknown) => {
      if (error instanceof SimHttpError)
        return sendJson(res, { status: error.status, body: error.body, headers: error.headers });
      deps.logger?.error({ err: error, method, path }, 'github-sim failed to answer');
      if (!res.headersSent)
        sendJson(res, { status: 500, body: { message: `github-sim: ${(error as Error).message}` } });
      else res.destroy();
    });
  };
}

async function serveApi(
  req: IncomingMessage,
  res: ServerResponse,
  url: URL,
  method: string,
  path: string,
  deps: SimServerDeps,
): Promise<void> {
  let caller: Caller = { kind: 'anonymous' };
  try {
    caller = identifyCaller(req.headers.authorization, deps.state);
    const raw = method === 'GET' || method === 'HEAD' ? Buffer.alloc(0) : await readBody(req, 25_000_000);
    const result = await deps.router.dispatch(method, path, {
      state: deps.state,
      urls: deps.urls,
      settings: deps.settings,
      git: deps.git,
      url,
      body: parseJsonBody(raw),
      caller,
    });
    sendJson(res, withRateLimit(result, caller, req, deps));
  } catch (error) {
    if (!(error instanceof SimHttpError)) throw error;
    sendJson(
      res,
      withRateLimit({ status: error.status, body: error.body, headers: error.headers }, caller, req, deps),
    );
  }
}

function withRateLimit(
  result: ApiResult,
  caller: Caller,
  req: IncomingMessage,
  deps: SimServerDeps,
): ApiResult {
  const key =
    caller.kind === 'installation'
      ? `installation:${caller.installation.id}`
      : caller.kind === 'app'
        ? 'app'
        : `ip:${req.socket.remoteAddress}`;
  const limits = deps.rateLimits.hit(key, caller.kind === 'anonymous' ? 60 : 5000);
  return { ...result, headers: { ...limits, ...result.headers } };
}

async function serveGit(
  req: IncomingMessage,
  res: ServerResponse,
  url: URL,
  path: string,
  deps: SimServerDeps,
) {
  const [, owner = '', name = '', rest = ''] = GIT_PATH.exec(path) ?? [];
  const repo = deps.state.repo(owner, name);
  if (!repo) return sendText(res, 404, 'Repository not found.');
  if (rest === 'git-receive-pack' || url.searchParams.get('service') === 'git-receive-pack') {
    return sendText(res, 403, 'github-sim does not accept pushes; use sim.addCommit() or sim.pushFromDir().');
  }
  const credential = credentialOf(req.headers.authorization);
  const token = credential === undefined ? undefined : installationTokenOf(credential, deps.state);
  const installation = token && deps.state.installations.get(token.installationId);
  const allowed =
    token &&
    installation &&
    tokenCovers(token, installation, repo) &&
    tokenGrants(token, installation, CONTENTS_READ);
  if ((credential !== undefined && !allowed) || (repo.private && !allowed)) {
    res.setHeader('www-authenticate', 'Basic realm="GitHub"');
    return sendText(
      res,
      401,
      credential === undefined
        ? ''
        : 'Invalid username or token. Password authentication is not supported for Git operations.',
    );
  }
  await serveGitCgi({
    req,
    res,
    projectRoot: deps.gitRoot,
    pathInfo: `/${repo.owner.login}/${repo.name}.git/${rest}`,
    query: url.search.replace(/^\?/, ''),
    remoteUser: allowed ? 'x-access-token' : undefined,
  });
}

function sendFault(
  res: ServerResponse,
  fault: FaultEffect,
  surface: Surface,
  requestId: string,
  deps: SimServerDeps,
) {
  let status = 500;
  let message = 'Server Error';
  const headers: Record<string, string> = {};
  if (fault.kind === 'error') {
    status = fault.status ?? 500;
    message = fault.message ?? message;
  } else if (fault.kind === 'secondary-rate-limit') {
    status = fault.status ?? 403;
    message = `${SECONDARY_MESSAGE} ${requestId}.`;
    headers['retry-after'] = String(fault.retryAfterSeconds ?? 1);
  } else if (fault.kind === 'rate-limit') {
    status = 403;
    message = 'API rate limit exceeded for installation. Check out the documentation for more details.';
    Object.assign(headers, {
      'x-ratelimit-limit': '5000',
      'x-ratelimit-remaining': '0',
      'x-ratelimit-used': '5000',
      'x-ratelimit-reset': String(Math.ceil(deps.state.clock() / 1000) + (fault.resetInSeconds ?? 1)),
      'x-ratelimit-resource': 'core',
    });
  }
  if (surface !== 'api') {
    for (const [name, value] of Object.entries(headers)) res.setHeader(name, value);
    return sendText(res, status, message);
  }
  const docs =
    fault.kind === 'error'
      ? 'https://docs.github.com/rest'
      : 'https://docs.github.com/rest/overview/rate-limits-for-the-rest-api';
  sendJson(res, { status, body: { message, documentation_url: docs, status: String(status) }, headers });
}

function sendJson(res: ServerResponse, result: ApiResult): void {
  res.statusCode = result.status;
  for (const [name, value] of Object.entries(result.headers ?? {})) res.setHeader(name, value);
  res.setHeader('x-github-api-version-selected', '2022-11-28');
  res.setHeader('x-github-media-type', 'github.v3; format=json');
  if (result.status === 204 || result.body === undefined) {
    res.end();
    return;
  }
  res.setHeader('content-type', 'application/json; charset=utf-8');
  res.end(JSON.stringify(result.body));
}

function sendText(res: ServerResponse, status: number, text: string): void {
  res.writeHead(status, { 'content-type': 'text/plain; charset=utf-8' });
  res.end(text ? `${text}\n` : '');
}
