import type { FileChanges, GitAuthor } from './git-repos.ts';
import type { Permissions } from './permissions.ts';
import type { pullRequestJson } from './pull-request-json.ts';

/** What a test passes to the sim's scenario helpers. */

export interface CreateInstallationOptions {
  /** Defaults to a fresh id. */
  id?: number;
  /** The user or organization the App is installed on. */
  account: string;
  accountType?: 'User' | 'Organization';
  /** `all` (default): every repository of the account; `selected`: only those created with this installation id. */
  repositorySelection?: 'all' | 'selected';
  /**
   * What the installation granted (default: all the App's permissions). Less when an owner has
   * not accepted a permission the App added later; change it with `sim.setInstallationPermissions`.
   */
  permissions?: Permissions;
}

export interface CreateRepoOptions {
  owner: string;
  name: string;
  /** Default true: clones then need an installation token. */
  private?: boolean;
  defaultBranch?: string;
  description?: string;
  /** Files of the first commit; default a README. */
  files?: FileChanges;
  /** Or: the first commit is a snapshot of this directory (its `.gitignore` honoured). */
  fromDir?: string;
  /** Extra ignore patterns for `fromDir`, e.g. `['__pycache__/', '.venv/']`. */
  exclude?: string[];
  /** Make it one of this installation's selected repositories. */
  installationId?: number;
  /** Create it as a fork of `owner/name`: every branch of the parent is copied. */
  forkOf?: { owner: string; name: string };
}

/** A repository as a test sees it. */
export interface RepoHandle {
  id: number;
  owner: string;
  name: string;
  fullName: string;
  private: boolean;
  defaultBranch: string;
  htmlUrl: string;
  cloneUrl: string;
  /** Tip of the default branch. */
  headSha: string;
}

export interface AddCommitOptions {
  owner: string;
  repo: string;
  /** Default: the default branch. A new branch starts from `from` (default: the default branch). */
  branch?: string;
  from?: string;
  files?: FileChanges;
  fromDir?: string;
  exclude?: string[];
  message?: string;
  author?: GitAuthor;
}

export interface OpenPullRequestOptions {
  owner: string;
  repo: string;
  /** Head branch; in `headOwner`'s fork when that is given. */
  head: string;
  /** Owner of the fork the head branch lives in (a repository of the same name); default: same repository. */
  headOwner?: string;
  /** Commit these files to `head` first (a new branch starts from the default branch). */
  files?: FileChanges;
  /** Default: the default branch. */
  base?: string;
  title?: string;
  body?: string;
  /** Author login; default the head repository's owner. */
  user?: string;
  labels?: string[];
  draft?: boolean;
}

export interface OpenedPullRequest {
  number: number;
  headSha: string;
  baseSha: string;
  /** The pull request as `GET /repos/{o}/{r}/pulls/{n}` answers it. */
  json: ReturnType<typeof pullRequestJson>;
}
