import type { Octokit } from '@octokit/rest';

export interface PullRequestSide {
  sha: string;
  ref: string;
  /** `owner/name`, or null when the fork was deleted. */
  repoFullName: string | null;
  cloneUrl: string | null;
}

/** What evalbot needs of a PR, read fresh from GitHub. */
export interface PullRequestInfo {
  number: number;
  state: 'open' | 'closed';
  merged: boolean;
  draft: boolean;
  title: string;
  htmlUrl: string;
  author: string;
  labels: string[];
  head: PullRequestSide;
  base: PullRequestSide;
  /** The head lives in another repository than the base. */
  fromFork: boolean;
  /** `updated_at`: orders this read against webhook events of the same PR. */
  updatedAt: string;
}

/** Read a pull request (`GET /repos/{o}/{r}/pulls/{n}`). */
export async function getPullRequest(
  octokit: Octokit,
  opts: { owner: string; repo: string; pullNumber: number },
): Promise<PullRequestInfo> {
  const { data } = await octokit.rest.pulls.get({
    owner: opts.owner,
    repo: opts.repo,
    pull_number: opts.pullNumber,
  });
  const side = (s: typeof data.head): PullRequestSide => ({
    sha: s.sha,
    ref: s.ref,
    repoFullName: s.repo?.full_name ?? null,
    cloneUrl: s.repo?.clone_url ?? null,
  });
  return {
    number: data.number,
    state: data.state === 'closed' ? 'closed' : 'open',
    merged: data.merged,
    draft: data.draft ?? false,
    title: data.title,
    htmlUrl: data.html_url,
    author: data.user.login,
    labels: data.labels.map((l) => l.name),
    head: side(data.head),
    base: side(data.base),
    fromFork: data.head.repo?.id !== data.base.repo.id,
    updatedAt: data.updated_at,
  };
}
