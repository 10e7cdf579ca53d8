import type { Octokit } from '@octokit/rest';
import { listReportComments } from './list-report-comments.ts';

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
  const [ours] = await listReportComments(octokit, opts);
  return ours ? { id: ours.id, body: ours.body ?? '', htmlUrl: ours.html_url } : undefined;
}
