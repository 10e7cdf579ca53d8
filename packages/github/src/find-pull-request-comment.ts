import type { Octokit } from '@octokit/rest';
import { EVALBOT_COMMENT_MARKER } from './upsert-pull-request-comment.ts';

export interface FoundComment {
  id: number;
  body: string;
  htmlUrl: string;
}

/**
 * The PR's evalbot comment (marker AND the bot's login, oldest if several), read over every
 * page — e.g. to carry its embedded history into the next report. Undefined when there is none.
 */
export async function findPullRequestComment(
  octokit: Octokit,
  opts: { owner: string; repo: string; issueNumber: number; botLogin: string; marker?: string },
): Promise<FoundComment | undefined> {
  const marker = opts.marker ?? EVALBOT_COMMENT_MARKER;
  const bot = opts.botLogin.toLowerCase();
  const comments = await octokit.paginate(octokit.rest.issues.listComments, {
    owner: opts.owner,
    repo: opts.repo,
    issue_number: opts.issueNumber,
    per_page: 100,
  });
  const ours = comments
    .filter((c) => c.user?.login.toLowerCase() === bot && c.body?.includes(marker))
    .sort((a, b) => a.id - b.id)[0];
  return ours ? { id: ours.id, body: ours.body ?? '', htmlUrl: ours.html_url } : undefined;
}
