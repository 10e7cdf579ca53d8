import type { KeyObject } from 'node:crypto';
import type { Permissions } from './permissions.ts';

/** A user, organization or bot account. */
export interface SimAccount {
  login: string;
  id: number;
  type: 'User' | 'Organization' | 'Bot';
}

/** Repository roles, as GitHub names them; `permission` in the API maps them to admin/write/read. */
export type RepoRole = 'admin' | 'maintain' | 'write' | 'triage' | 'read';

export interface SimLabel {
  id: number;
  name: string;
  color: string;
  description: string | null;
}

export interface SimRepo {
  id: number;
  owner: SimAccount;
  name: string;
  private: boolean;
  defaultBranch: string;
  description: string | null;
  createdAt: number;
  pushedAt: number;
  /** The bare repository on disk that `git http-backend` serves. */
  gitDir: string;
  /** Branch name → tip SHA, kept in step with the bare repository by the scenario helpers. */
  branches: Map<string, string>;
  /** Lower-cased login → role. The owner is admin without being listed. */
  collaborators: Map<string, RepoRole>;
  /** Lower-cased name → label. */
  labels: Map<string, SimLabel>;
  forkOf?: SimRepo;
  /** Issues and pull requests share one sequence of numbers, as on GitHub. */
  nextNumber: number;
}

export interface SimPullRequest {
  id: number;
  number: number;
  repo: SimRepo;
  title: string;
  body: string | null;
  user: SimAccount;
  state: 'open' | 'closed';
  draft: boolean;
  merged: boolean;
  headRepo: SimRepo;
  headRef: string;
  headSha: string;
  baseRef: string;
  /** Label names, in the order they were added. */
  labels: string[];
  createdAt: number;
  updatedAt: number;
  closedAt: number | null;
}

export interface SimReaction {
  id: number;
  content: string;
  user: SimAccount;
  createdAt: number;
}

export interface SimComment {
  id: number;
  repo: SimRepo;
  issueNumber: number;
  body: string;
  user: SimAccount;
  createdAt: number;
  updatedAt: number;
  reactions: SimReaction[];
}

export interface SimCheckRunOutput {
  title: string | null;
  summary: string | null;
  text: string | null;
}

export interface SimCheckRun {
  id: number;
  repo: SimRepo;
  name: string;
  headSha: string;
  status: string;
  conclusion: string | null;
  startedAt: number | null;
  completedAt: number | null;
  detailsUrl: string | null;
  externalId: string | null;
  output: SimCheckRunOutput;
  suiteId: number;
}

export interface SimInstallation {
  id: number;
  account: SimAccount;
  repositorySelection: 'all' | 'selected';
  /** For `selected`: the repositories it may touch. */
  repoIds: Set<number>;
  /** What the installation granted the App: every token's ceiling. */
  permissions: Permissions;
  createdAt: number;
}

export interface SimToken {
  token: string;
  installationId: number;
  expiresAt: number;
  /** Narrowed at creation (`repositories` / `repository_ids`), else every repository of the installation. */
  repoIds: Set<number> | null;
  /** Narrowed at creation (`permissions`), else null: every permission of the installation. */
  permissions: Permissions | null;
  createdAt: number;
}

export interface SimApp {
  id: number;
  slug: string;
  name: string;
  clientId: string;
  clientSecret: string;
  webhookSecret: string;
  owner: SimAccount;
  bot: SimAccount;
  createdAt: number;
  /**
   * The public halves of the App's private keys. GitHub lets an App have several at once (so a
   * key can be rotated without downtime) and accepts a JWT signed with any of them.
   */
  publicKeys: KeyObject[];
  /** Known when the sim was given (or generated) the private key; needed for manifest conversions. */
  privateKeyPem?: string;
}

/** What a test passes to register an App-manifest code (the `POST /app-manifests/{code}/conversions` flow). */
export interface ManifestRegistration {
  name?: string;
  url?: string;
  webhookSecret?: string;
  /** The manifest as the user's browser posted it, kept for tests to inspect. */
  manifest?: Record<string, unknown>;
}

/** Everything the sim knows. Plain data: routes and scenario helpers change it. */
export class SimState {
  readonly accounts = new Map<string, SimAccount>();
  readonly repos = new Map<string, SimRepo>();
  readonly installations = new Map<number, SimInstallation>();
  readonly pulls = new Map<string, SimPullRequest>();
  readonly comments = new Map<number, SimComment>();
  readonly checkRuns = new Map<number, SimCheckRun>();
  readonly tokens = new Map<string, SimToken>();
  readonly manifestCodes = new Map<string, ManifestRegistration>();
  webhookTarget: { url: string; secret: string } | undefined;
  private readonly counters = new Map<string, number>();

  constructor(
    readonly app: SimApp,
    readonly clock: () => number,
  ) {
    this.accounts.set(app.bot.login.toLowerCase(), app.bot);
    this.accounts.set(app.owner.login.toLowerCase(), app.owner);
  }

  /** A fresh id of a kind; each kind has its own realistic-looking range. */
  nextId(kind: 'account' | 'repo' | 'pull' | 'comment' | 'reaction' | 'check' | 'suite' | 'label'): number {
    const base = {
      account: 10_000_000,
      repo: 500_000_000,
      pull: 1_800_000_000,
      comment: 2_000_000_000,
      reaction: 250_000_000,
      check: 30_000_000_000,
      suite: 28_000_000_000,
      label: 7_000_000_000,
    }[kind];
    const next = (this.counters.get(kind) ?? base) + 1;
    this.counters.set(kind, next);
    return next;
  }

  /** The account with this login, created as a User (or `type`) on first use. */
  account(login: string, type: SimAccount['type'] = 'User'): SimAccount {
    const key = login.toLowerCase();
    let account = this.accounts.get(key);
    if (!account) {
      account = { login, id: this.nextId('account'), type };
      this.accounts.set(key, account);
    }
    return account;
  }

  repo(owner: string, name: string): SimRepo | undefined {
    return this.repos.get(`${owner}/${name}`.toLowerCase());
  }

  repoById(id: number): SimRepo | undefined {
    for (const repo of this.repos.values()) if (repo.id === id) return repo;
    return undefined;
  }

  pull(repo: SimRepo, number: number): SimPullRequest | undefined {
    return this.pulls.get(`${repo.id}#${number}`);
  }

  pullsOf(repo: SimRepo): SimPullRequest[] {
    return [...this.pulls.values()].filter((pr) => pr.repo === repo);
  }

  /** The installation that covers a repository, if any. */
  installationFor(repo: SimRepo): SimInstallation | undefined {
    for (const installation of this.installations.values()) {
      if (installationCovers(installation, repo)) return installation;
    }
    return undefined;
  }
}

export function installationCovers(installation: SimInstallation, repo: SimRepo): boolean {
  if (installation.account.login.toLowerCase() !== repo.owner.login.toLowerCase()) return false;
  return installation.repositorySelection === 'all' || installation.repoIds.has(repo.id);
}

/** GitHub's timestamp format: ISO 8601 without milliseconds. */
export function isoTime(ms: number): string {
  return new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/** Base URLs that JSON shapes are built from. */
export interface SimUrls {
  /** REST API base, e.g. http://127.0.0.1:1234/api/v3 */
  api: string;
  /** Web and clone base, e.g. http://127.0.0.1:1234 */
  web: string;
}
