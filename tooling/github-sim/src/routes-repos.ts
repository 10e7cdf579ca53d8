import type { ApiRoute } from './api-router.ts';
import { notFound, paginate } from './http-kit.ts';
import { METADATA_READ, PULLS_READ } from './permissions.ts';
import { pullRequestJson } from './pull-request-json.ts';
import { repositoryJson, userJson } from './repository-json.ts';
import type { RepoRole, SimRepo } from './sim-state.ts';

/** The repository, its pull requests, and collaborator permissions. */
export const repoRoutes: ApiRoute[] = [
  {
    method: 'GET',
    path: '/repos/:owner/:repo',
    access: 'repo',
    permission: METADATA_READ,
    handle: ({ repo, urls }) => ({ status: 200, body: repositoryJson(repo, urls) }),
  },
  {
    method: 'GET',
    path: '/repos/:owner/:repo/pulls',
    access: 'repo',
    permission: PULLS_READ,
    handle: ({ repo, state, urls, url }) => {
      const wanted = url.searchParams.get('state') ?? 'open';
      const pulls = state
        .pullsOf(repo)
        .filter((pr) => wanted === 'all' || pr.state === wanted)
        .sort((a, b) => b.number - a.number);
      const page = paginate(pulls, url);
      return { status: 200, body: page.items.map((pr) => pullRequestJson(pr, urls)), headers: page.headers };
    },
  },
  {
    method: 'GET',
    path: '/repos/:owner/:repo/pulls/:pull_number',
    access: 'repo',
    permission: PULLS_READ,
    handle: ({ repo, state, urls, params }) => {
      const pr = state.pull(repo, Number(params.pull_number));
      if (!pr) throw notFound();
      return { status: 200, body: pullRequestJson(pr, urls) };
    },
  },
  {
    method: 'GET',
    path: '/repos/:owner/:repo/collaborators/:username/permission',
    access: 'repo',
    permission: METADATA_READ,
    handle: ({ repo, state, urls, params }) => {
      const user = state.account(params.username ?? '');
      const role = roleOf(repo, user.login);
      return {
        status: 200,
        body: {
          permission: role ? legacyPermission(role) : repo.private ? 'none' : 'read',
          role_name: role ?? (repo.private ? 'none' : 'read'),
          user: { ...userJson(user, urls), permissions: permissionsOf(role) },
        },
      };
    },
  },
];

function roleOf(repo: SimRepo, login: string): RepoRole | undefined {
  if (login.toLowerCase() === repo.owner.login.toLowerCase()) return 'admin';
  return repo.collaborators.get(login.toLowerCase());
}

/** GitHub's `permission` field keeps the old three levels: maintain counts as write, triage as read. */
function legacyPermission(role: RepoRole): 'admin' | 'write' | 'read' {
  if (role === 'admin') return 'admin';
  return role === 'maintain' || role === 'write' ? 'write' : 'read';
}

function permissionsOf(role: RepoRole | undefined) {
  const order: RepoRole[] = ['read', 'triage', 'write', 'maintain', 'admin'];
  const level = role ? order.indexOf(role) : -1;
  return {
    admin: level >= 4,
    maintain: level >= 3,
    push: level >= 2,
    triage: level >= 1,
    pull: level >= 0,
  };
}
