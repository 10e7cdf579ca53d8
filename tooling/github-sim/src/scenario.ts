import { join } from 'node:path';
import type { GitRepos } from './git-repos.ts';
import { APP_PERMISSIONS } from './permissions.ts';
import { commentJson, pullRequestJson } from './pull-request-json.ts';
import { addLabel } from './routes-issues.ts';
import type {
  AddCommitOptions,
  CreateInstallationOptions,
  CreateRepoOptions,
  OpenedPullRequest,
  OpenPullRequestOptions,
  RepoHandle,
} from './scenario-options.ts';
import type { RepoRole, SimInstallation, SimPullRequest, SimRepo, SimState, SimUrls } from './sim-state.ts';

interface ScenarioDeps {
  state: SimState;
  git: GitRepos;
  gitRoot: string;
  urls: SimUrls;
}

/** Helpers a test uses to set the stage: installations, repositories with real commits, pull requests. */
export function createScenario({ state, git, gitRoot, urls }: ScenarioDeps) {
  const repoOf = (owner: string, name: string): SimRepo => {
    const repo = state.repo(owner, name);
    if (!repo) throw new Error(`github-sim: no repository ${owner}/${name}; create it with sim.createRepo()`);
    return repo;
  };
  const pullOf = (owner: string, name: string, number: number): SimPullRequest => {
    const pr = state.pull(repoOf(owner, name), number);
    if (!pr) throw new Error(`github-sim: no pull request ${owner}/${name}#${number}`);
    return pr;
  };
  const handleOf = (repo: SimRepo): RepoHandle => ({
    id: repo.id,
    owner: repo.owner.login,
    name: repo.name,
    fullName: `${repo.owner.login}/${repo.name}`,
    private: repo.private,
    defaultBranch: repo.defaultBranch,
    htmlUrl: `${urls.web}/${repo.owner.login}/${repo.name}`,
    cloneUrl: `${urls.web}/${repo.owner.login}/${repo.name}.git`,
    headSha: repo.branches.get(repo.defaultBranch) ?? '',
  });

  /** Point refs/pull/N/head of every open PR on this branch at its new tip, as GitHub does on push. */
  const syncPulls = async (headRepo: SimRepo, branch: string) => {
    const sha = headRepo.branches.get(branch);
    if (!sha) return;
    for (const pr of state.pulls.values()) {
      if (pr.headRepo !== headRepo || pr.headRef !== branch || pr.state !== 'open') continue;
      await writePullRef(pr, sha);
      pr.headSha = sha;
      pr.updatedAt = state.clock();
    }
  };
  const writePullRef = async (pr: SimPullRequest, sha: string) => {
    if (pr.headRepo === pr.repo) await git.setRef(pr.repo.gitDir, `refs/pull/${pr.number}/head`, sha);
    else await git.fetchRef(pr.repo.gitDir, pr.headRepo.gitDir, sha, `refs/pull/${pr.number}/head`);
  };
  const moveBranch = async (repo: SimRepo, branch: string, sha: string) => {
    await git.setRef(repo.gitDir, `refs/heads/${branch}`, sha);
    repo.branches.set(branch, sha);
    repo.pushedAt = state.clock();
    await syncPulls(repo, branch);
  };

  const addCommit = async (opts: AddCommitOptions): Promise<string> => {
    const repo = repoOf(opts.owner, opts.repo);
    const branch = opts.branch ?? repo.defaultBranch;
    const from = opts.from ?? repo.defaultBranch;
    const parent =
      repo.branches.get(branch) ?? repo.branches.get(from) ?? (/^[0-9a-f]{40}$/.test(from) ? from : null);
    const message = opts.message ?? `Update ${branch}`;
    const sha = opts.fromDir
      ? await git.commitDirectory(repo.gitDir, {
          dir: opts.fromDir,
          parent,
          message,
          ...(opts.exclude ? { exclude: opts.exclude } : {}),
          ...(opts.author ? { author: opts.author } : {}),
        })
      : await git.commitFiles(repo.gitDir, {
          parent,
          files: opts.files ?? {},
          message,
          ...(opts.author ? { author: opts.author } : {}),
        });
    await moveBranch(repo, branch, sha);
    return sha;
  };

  return {
    createInstallation(opts: CreateInstallationOptions): SimInstallation {
      const id = opts.id ?? state.nextId('account');
      if (state.installations.has(id)) throw new Error(`github-sim: installation ${id} exists already`);
      const installation: SimInstallation = {
        id,
        account: state.account(opts.account, opts.accountType ?? 'Organization'),
        repositorySelection: opts.repositorySelection ?? 'all',
        repoIds: new Set(),
        permissions: { ...(opts.permissions ?? APP_PERMISSIONS) },
        createdAt: state.clock(),
      };
      state.installations.set(id, installation);
      return installation;
    },

    async createRepo(opts: CreateRepoOptions): Promise<RepoHandle> {
      if (state.repo(opts.owner, opts.name))
        throw new Error(`github-sim: ${opts.owner}/${opts.name} exists already`);
      const owner = state.account(opts.owner);
      const parent = opts.forkOf && repoOf(opts.forkOf.owner, opts.forkOf.name);
      const defaultBranch = opts.defaultBranch ?? parent?.defaultBranch ?? 'main';
      const repo: SimRepo = {
        id: state.nextId('repo'),
        owner,
        name: opts.name,
        private: opts.private ?? parent?.private ?? true,
        defaultBranch,
        description: opts.description ?? null,
        createdAt: state.clock(),
        pushedAt: state.clock(),
        gitDir: join(gitRoot, owner.login, `${opts.name}.git`),
        branches: new Map(),
        collaborators: new Map(),
        labels: new Map(),
        ...(parent ? { forkOf: parent } : {}),
        nextNumber: 1,
      };
      await git.init(repo.gitDir, defaultBranch);
      state.repos.set(`${owner.login}/${opts.name}`.toLowerCase(), repo);
      if (opts.installationId !== undefined) {
        const installation = state.installations.get(opts.installationId);
        if (!installation) throw new Error(`github-sim: no installation ${opts.installationId}`);
        installation.repoIds.add(repo.id);
      }
      if (parent) {
        for (const [branch, sha] of parent.branches) {
          await git.fetchRef(repo.gitDir, parent.gitDir, `refs/heads/${branch}`, `refs/heads/${branch}`);
          repo.branches.set(branch, sha);
        }
        return handleOf(repo);
      }
      const sha = opts.fromDir
        ? await git.commitDirectory(repo.gitDir, {
            dir: opts.fromDir,
            parent: null,
            message: 'Initial commit',
            ...(opts.exclude ? { exclude: opts.exclude } : {}),
          })
        : await git.commitFiles(repo.gitDir, {
            parent: null,
            files: opts.files ?? { 'README.md': `# ${opts.name}\n` },
            message: 'Initial commit',
          });
      await moveBranch(repo, defaultBranch, sha);
      return handleOf(repo);
    },

    /** Commit files (or a directory snapshot) to a branch and return the SHA; open PRs on it follow. */
    addCommit,

    /** Commit a snapshot of `dir` on top of `branch`; same as `addCommit({ fromDir })`. */
    pushFromDir(opts: Omit<AddCommitOptions, 'files' | 'fromDir'> & { dir: string }): Promise<string> {
      const { dir, ...rest } = opts;
      return addCommit({ ...rest, fromDir: dir });
    },

    /** Push a local repository's `ref` (default HEAD) to `branch`, history and all. */
    async pushLocalRepo(opts: { owner: string; repo: string; dir: string; ref?: string; branch: string }) {
      const repo = repoOf(opts.owner, opts.repo);
      const sha = await git.pushLocal(repo.gitDir, {
        dir: opts.dir,
        ref: opts.ref ?? 'HEAD',
        branch: opts.branch,
      });
      await moveBranch(repo, opts.branch, sha);
      return sha;
    },

    async openPullRequest(opts: OpenPullRequestOptions): Promise<OpenedPullRequest> {
      const repo = repoOf(opts.owner, opts.repo);
      const headRepo = opts.headOwner ? repoOf(opts.headOwner, opts.repo) : repo;
      if (opts.files)
        await addCommit({
          owner: headRepo.owner.login,
          repo: opts.repo,
          branch: opts.head,
          files: opts.files,
        });
      const base = opts.base ?? repo.defaultBranch;
      const headSha = headRepo.branches.get(opts.head);
      if (!headSha)
        throw new Error(`github-sim: no branch ${opts.head} in ${headRepo.owner.login}/${headRepo.name}`);
      if (!repo.branches.has(base)) throw new Error(`github-sim: no base branch ${base}`);
      const now = state.clock();
      const pr: SimPullRequest = {
        id: state.nextId('pull'),
        number: repo.nextNumber++,
        repo,
        title: opts.title ?? `Change ${opts.head}`,
        body: opts.body ?? null,
        user: state.account(opts.user ?? headRepo.owner.login),
        state: 'open',
        draft: opts.draft ?? false,
        merged: false,
        headRepo,
        headRef: opts.head,
        headSha,
        baseRef: base,
        labels: [],
        createdAt: now,
        updatedAt: now,
        closedAt: null,
      };
      state.pulls.set(`${repo.id}#${pr.number}`, pr);
      await writePullRef(pr, headSha);
      for (const label of opts.labels ?? []) addLabel({ state }, pr, label);
      return {
        number: pr.number,
        headSha,
        baseSha: repo.branches.get(base) ?? '',
        json: pullRequestJson(pr, urls),
      };
    },

    async setPullRequestState(opts: {
      owner: string;
      repo: string;
      number: number;
      state: 'open' | 'closed';
      merged?: boolean;
    }) {
      const pr = pullOf(opts.owner, opts.repo, opts.number);
      pr.state = opts.state;
      pr.merged = opts.state === 'closed' && (opts.merged ?? false);
      pr.closedAt = opts.state === 'closed' ? state.clock() : null;
      pr.updatedAt = state.clock();
      if (opts.state === 'open') await syncPulls(pr.headRepo, pr.headRef);
      return pullRequestJson(pr, urls);
    },

    addLabels(opts: { owner: string; repo: string; number: number; labels: string[] }) {
      const pr = pullOf(opts.owner, opts.repo, opts.number);
      for (const label of opts.labels) addLabel({ state }, pr, label);
      return [...pr.labels];
    },

    /** Label names on a pull request. */
    labels(owner: string, repo: string, number: number): string[] {
      return [...pullOf(owner, repo, number).labels];
    },

    setCollaborator(opts: { owner: string; repo: string; login: string; role: RepoRole }) {
      repoOf(opts.owner, opts.repo).collaborators.set(opts.login.toLowerCase(), opts.role);
      state.account(opts.login);
    },

    /** A comment by someone other than the App (e.g. `/evaluate` from a user). */
    addIssueComment(opts: { owner: string; repo: string; number: number; body: string; user: string }) {
      const pr = pullOf(opts.owner, opts.repo, opts.number);
      const now = state.clock();
      const comment = {
        id: state.nextId('comment'),
        repo: pr.repo,
        issueNumber: pr.number,
        body: opts.body,
        user: state.account(opts.user),
        createdAt: now,
        updatedAt: now,
        reactions: [],
      };
      state.comments.set(comment.id, comment);
      return commentJson(comment, state, urls);
    },

    repoHandle(owner: string, name: string): RepoHandle {
      return handleOf(repoOf(owner, name));
    },

    /** Tip of a branch, or undefined. */
    branchSha(owner: string, repo: string, branch: string): string | undefined {
      return repoOf(owner, repo).branches.get(branch);
    },
    repoOf,
    pullOf,
  };
}

export type Scenario = ReturnType<typeof createScenario>;
