import { type Caller, requireApp, tokenCovers } from './caller-auth.ts';
import type { GitRepos } from './git-repos.ts';
import { type ApiResult, githubError, notFound } from './http-kit.ts';
import { type PermissionNeed, tokenGrants } from './permissions.ts';
import { type CompiledPattern, compilePathPattern, matchPath } from './route-pattern.ts';
import type { SimRepo, SimState, SimUrls } from './sim-state.ts';

/** Settings routes read at request time. */
export interface SimSettings {
  tokenLifetimeMs: number;
}

export interface RouteContext {
  state: SimState;
  urls: SimUrls;
  settings: SimSettings;
  git: GitRepos;
  /** The full request URL (API base included), for pagination links. */
  url: URL;
  params: Record<string, string>;
  body: Record<string, unknown>;
  caller: Caller;
}

/**
 * Who may call a route: `app` (JWT), `repo` (an installation token covering `:owner/:repo`;
 * anonymous reads of public repositories allowed), `installation` (any installation token), `none`.
 */
export type Access = 'app' | 'repo' | 'installation' | 'none';

export interface ApiRoute {
  method: string;
  path: string;
  access: Access;
  /** What an installation token needs on `repo` routes; refused with GitHub's 403 otherwise. */
  permission?: PermissionNeed;
  handle(ctx: RouteContext & { repo: SimRepo }): ApiResult | Promise<ApiResult>;
}

interface CompiledRoute extends ApiRoute {
  compiled: CompiledPattern;
}

export interface ApiRouter {
  /** Answer an API request (path relative to the API base); throws `SimHttpError` for GitHub errors. */
  dispatch(method: string, path: string, ctx: Omit<RouteContext, 'params'>): Promise<ApiResult>;
}

export function createApiRouter(routes: ApiRoute[]): ApiRouter {
  const compiled: CompiledRoute[] = routes.map((route) => ({
    ...route,
    compiled: compilePathPattern(route.path),
  }));
  return {
    async dispatch(method, path, base) {
      for (const route of compiled) {
        if (route.method !== method) continue;
        const params = matchPath(route.compiled, path);
        if (!params) continue;
        const ctx = { ...base, params };
        const repo = authorize(route, ctx);
        // Routes without a repository never read `repo`; the cast keeps one handler signature.
        return route.handle({ ...ctx, repo: repo as SimRepo });
      }
      throw notFound();
    },
  };
}

function authorize(route: ApiRoute, ctx: RouteContext): SimRepo | undefined {
  const { caller } = ctx;
  switch (route.access) {
    case 'none':
      return undefined;
    case 'app':
      requireApp(caller);
      return repoParam(ctx);
    case 'installation':
      requireInstallation(caller);
      return undefined;
    case 'repo': {
      const repo = repoParam(ctx);
      if (caller.kind === 'anonymous') {
        if (route.method !== 'GET') throw githubError(401, 'Requires authentication');
        if (!repo || repo.private) throw notFound();
        return repo;
      }
      if (caller.kind === 'app') throw githubError(403, 'Resource not accessible by integration');
      // GitHub hides repositories a token cannot see behind 404, never 403.
      if (!repo || !tokenCovers(caller.token, caller.installation, repo)) throw notFound();
      if (route.permission && !tokenGrants(caller.token, caller.installation, route.permission)) {
        throw githubError(403, 'Resource not accessible by integration');
      }
      return repo;
    }
  }
}

function requireInstallation(caller: Caller): void {
  if (caller.kind === 'installation') return;
  if (caller.kind === 'anonymous') throw githubError(401, 'Requires authentication');
  throw githubError(403, 'Resource not accessible by integration');
}

function repoParam(ctx: RouteContext): SimRepo | undefined {
  const { owner, repo } = ctx.params;
  return owner && repo ? ctx.state.repo(owner, repo) : undefined;
}
