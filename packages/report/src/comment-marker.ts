import { EVALBOT_COMMENT_MARKER } from '@evalbot/github/facts';

/**
 * The first line of every comment evalbot writes on a PR: how the worker finds its own comment to
 * update it (an HTML comment, invisible on GitHub). Defined with GitHub's other facts.
 */
export const COMMENT_MARKER = EVALBOT_COMMENT_MARKER;

/** True when a comment body is one of evalbot's reports (pending or final). */
export function isReportComment(body: string | null | undefined): boolean {
  return typeof body === 'string' && body.trimStart().startsWith(COMMENT_MARKER);
}

/** The first 7 characters of a SHA, as GitHub shows it. */
export function shortSha(sha: string): string {
  return sha.slice(0, 7);
}
