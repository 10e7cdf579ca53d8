import type { Octokit } from '@octokit/rest';
import { EVALBOT_COMMENT_MARKER, GITHUB_LIMITS } from './github-facts.ts';
import { withKeyedLock } from './keyed-lock.ts';
import { listReportComments, type ReportComment } from './list-report-comments.ts';
import { truncateForGitHub } from './truncate-for-github.ts';

export interface UpsertCommentOptions {
  owner: string;
  repo: string;
  /** The PR (issue) number. */
  issueNumber: number;
  /** Markdown; the marker is prepended when missing. Cut to GitHub's 65 536-character limit. */
  body: string;
  /** The App's own login, `<slug>[bot]` (`GitHubApp.botLogin()`): a user quoting the marker is never edited. */
  botLogin: string;
  marker?: string;
  /**
   * The PR's report comments (`listReportComments`) as the caller just read them under its own
   * cross-process lock: saves listing every page again. Without it they are listed here.
   */
  listed?: readonly ReportComment[];
}

export interface UpsertCommentResult {
  id: number;
  htmlUrl: string;
  action: 'created' | 'updated' | 'unchanged';
  /** The body as it now is on GitHub (marker added, cut to the limit). */
  body: string;
  /** Extra copies (from a race in another process) that were deleted. */
  duplicatesDeleted: number;
}

/**
 * Create the PR's evalbot comment once, then edit it in place. The comment is found by the
 * marker AND the bot's login, over every page of comments. Upserts of one PR are serialized in
 * this process, and each one re-reads the comments under the lock, so two racing upserts edit
 * one comment; the worker also holds a Redis lock across processes. Should copies exist anyway,
 * the oldest is kept and the others deleted.
 */
export async function upsertPullRequestComment(
  octokit: Octokit,
  opts: UpsertCommentOptions,
): Promise<UpsertCommentResult> {
  const marker = opts.marker ?? EVALBOT_COMMENT_MARKER;
  const body = truncateForGitHub(
    opts.body.includes(marker) ? opts.body : `${marker}\n${opts.body}`,
    GITHUB_LIMITS.commentBody,
  );
  const { owner, repo, issueNumber } = opts;
  const key = `${octokit.request.endpoint.DEFAULTS.baseUrl}/${owner}/${repo}#${issueNumber}`.toLowerCase();

  return withKeyedLock(key, async () => {
    const [kept, ...duplicates] = opts.listed ?? (await listReportComments(octokit, { ...opts, marker }));
    if (!kept) {
      const { data } = await octokit.rest.issues.createComment({
        owner,
        repo,
        issue_number: issueNumber,
        body,
      });
      return { id: data.id, htmlUrl: data.html_url, action: 'created', body, duplicatesDeleted: 0 };
    }
    let action: UpsertCommentResult['action'] = 'unchanged';
    if (kept.body !== body) {
      await octokit.rest.issues.updateComment({ owner, repo, comment_id: kept.id, body });
      action = 'updated';
    }
    for (const duplicate of duplicates) {
      await octokit.rest.issues
        .deleteComment({ owner, repo, comment_id: duplicate.id })
        .catch((error: unknown) => {
          if ((error as { status?: number }).status !== 404) throw error;
        });
    }
    return { id: kept.id, htmlUrl: kept.html_url, action, body, duplicatesDeleted: duplicates.length };
  });
}
