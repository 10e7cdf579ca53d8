import { randomBytes } from 'node:crypto';
import type { ApiRoute } from './api-router.ts';
import { appJson, installationJson } from './app-json.ts';
import { githubError, notFound, paginate } from './http-kit.ts';
import { requestedPermissions } from './permissions.ts';
import { repositoryJson, userJson } from './repository-json.ts';
import { installationCovers, isoTime, type SimRepo, type SimState } from './sim-state.ts';

/** `ghs_` followed by 36 base-62 characters, like GitHub's installation tokens. */
function newInstallationToken(): string {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
  const bytes = randomBytes(36);
  return `ghs_${Array.from(bytes, (b) => alphabet[b % alphabet.length]).join('')}`;
}

/** App endpoints (JWT), installation tokens, installation repositories and manifest conversions. */
export const appRoutes: ApiRoute[] = [
  {
    method: 'GET',
    path: '/app',
    access: 'app',
    handle: ({ state, urls }) => ({
      status: 200,
      body: { ...appJson(state.app, urls), installations_count: state.installations.size },
    }),
  },
  {
    method: 'GET',
    path: '/app/installations',
    access: 'app',
    handle: ({ state, urls, url }) => {
      const page = paginate([...state.installations.values()], url);
      return {
        status: 200,
        body: page.items.map((i) => installationJson(i, state, urls)),
        headers: page.headers,
      };
    },
  },
  {
    method: 'GET',
    path: '/app/installations/:installation_id',
    access: 'app',
    handle: ({ state, urls, params }) => {
      const installation = state.installations.get(Number(params.installation_id));
      if (!installation) throw notFound();
      return { status: 200, body: installationJson(installation, state, urls) };
    },
  },
  {
    method: 'POST',
    path: '/app/installations/:installation_id/access_tokens',
    access: 'app',
    handle: ({ state, urls, params, body, settings }) => {
      const installation = state.installations.get(Number(params.installation_id));
      if (!installation) throw notFound();
      const repos = narrowRepositories(state, installation.id, body);
      const permissions = requestedPermissions(body, installation.permissions);
      const now = state.clock();
      const token = {
        token: newInstallationToken(),
        installationId: installation.id,
        createdAt: now,
        expiresAt: now + settings.tokenLifetimeMs,
        repoIds: repos ? new Set(repos.map((r) => r.id)) : null,
        permissions,
      };
      state.tokens.set(token.token, token);
      return {
        status: 201,
        body: {
          token: token.token,
          expires_at: isoTime(token.expiresAt),
          permissions: permissions ?? { ...installation.permissions },
          repository_selection: repos ? 'selected' : installation.repositorySelection,
          ...(repos ? { repositories: repos.map((r) => repositoryJson(r, urls)) } : {}),
        },
      };
    },
  },
  {
    method: 'GET',
    path: '/repos/:owner/:repo/installation',
    access: 'app',
    handle: ({ state, urls, params }) => {
      const repo = state.repo(params.owner ?? '', params.repo ?? '');
      const installation = repo && state.installationFor(repo);
      if (!installation) throw notFound();
      return { status: 200, body: installationJson(installation, state, urls) };
    },
  },
  {
    method: 'GET',
    path: '/installation/repositories',
    access: 'installation',
    handle: ({ state, urls, url, caller }) => {
      if (caller.kind !== 'installation') throw notFound();
      const repos = [...state.repos.values()].filter(
        (repo) =>
          installationCovers(caller.installation, repo) &&
          (caller.token.repoIds === null || caller.token.repoIds.has(repo.id)),
      );
      const page = paginate(repos, url);
      return {
        status: 200,
        body: {
          total_count: repos.length,
          repository_selection: caller.installation.repositorySelection,
          repositories: page.items.map((r) => repositoryJson(r, urls)),
        },
        headers: page.headers,
      };
    },
  },
  {
    method: 'POST',
    path: '/app-manifests/:code/conversions',
    access: 'none',
    handle: ({ state, urls, params }) => {
      const registration = state.manifestCodes.get(params.code ?? '');
      if (!registration) throw notFound();
      // Codes are single use, as on GitHub.
      state.manifestCodes.delete(params.code ?? '');
      const { app } = state;
      if (!app.privateKeyPem) {
        throw githubError(500, 'github-sim: start the sim with privateKey (or no key) to convert manifests');
      }
      if (registration.name) app.name = registration.name;
      if (registration.webhookSecret) app.webhookSecret = registration.webhookSecret;
      return {
        status: 201,
        body: {
          ...appJson(app, urls),
          owner: userJson(app.owner, urls),
          external_url: registration.url ?? urls.web,
          client_id: app.clientId,
          client_secret: app.clientSecret,
          webhook_secret: app.webhookSecret,
          pem: app.privateKeyPem,
        },
      };
    },
  },
];

function narrowRepositories(
  state: SimState,
  installationId: number,
  body: Record<string, unknown>,
): SimRepo[] | null {
  const names = Array.isArray(body.repositories) ? body.repositories.map(String) : undefined;
  const ids = Array.isArray(body.repository_ids) ? body.repository_ids.map(Number) : undefined;
  if (!names && !ids) return null;
  const installation = state.installations.get(installationId);
  const covered = [...state.repos.values()].filter(
    (r) => installation && installationCovers(installation, r),
  );
  const picked = covered.filter((r) => names?.includes(r.name) || ids?.includes(r.id));
  const wanted = (names?.length ?? 0) + (ids?.length ?? 0);
  if (picked.length < wanted) {
    throw githubError(
      422,
      'There is at least one repository that does not exist or is not accessible to the parent installation.',
    );
  }
  return picked;
}
