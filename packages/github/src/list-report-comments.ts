import type { Octokit } from '@octokit/rest';
import { EVALBOT_COMMENT_MARKER } from './github-facts.ts';

/** One of evalbot's report comments, as GitHub lists it. */
export interface ReportComment {
  id: number;
  body?: string;
  html_url: string;
}

/**
 * The PR's report comments, oldest first, read over every page: those carrying `marker` AND
 * posted by `botLogin`, so a user quoting the marker is never taken for evalbot's.
 */
export async function listReportComments(
  octokit: Octokit,
  opts: { owner: string; repo: string; issueNumber: number; botLogin: string; marker?: string },
): Promise<ReportComment[]> {
  const marker = opts.marker ?? EVALBOT_COMMENT_MARKER;
  const bot = opts.botLogin.toLowerCase();
  const comments = await octokit.paginate(octokit.rest.issues.listComments, {
    owner: opts.owner,
    repo: opts.repo,
    issue_number: opts.issueNumber,
    per_page: 100,
  });
  return comments
    .filter((c) => c.user?.login.toLowerCase() === bot && c.body?.includes(marker))
    .sort((a, b) => a.id - b.id);
}
