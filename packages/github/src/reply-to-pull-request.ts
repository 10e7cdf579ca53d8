import type { Octokit } from '@octokit/rest';
import { GITHUB_LIMITS } from './github-facts.ts';
import { truncateForGitHub } from './truncate-for-github.ts';

/**
 * Post a one-off comment on a PR (e.g. refusing an `/evaluate` from a user without write
 * access). Unlike the report comment it is not kept up to date.
 */
export async function replyToPullRequest(
  octokit: Octokit,
  opts: { owner: string; repo: string; issueNumber: number; body: string },
): Promise<{ id: number; htmlUrl: string }> {
  const { data } = await octokit.rest.issues.createComment({
    owner: opts.owner,
    repo: opts.repo,
    issue_number: opts.issueNumber,
    body: truncateForGitHub(opts.body, GITHUB_LIMITS.commentBody),
  });
  return { id: data.id, htmlUrl: data.html_url };
}
