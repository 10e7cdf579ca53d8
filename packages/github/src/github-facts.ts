/**
 * What GitHub defines and evalbot's packages share, in one place: the marker of evalbot's
 * comment, GitHub's size limits, and the shapes of a check run's output. Free of Octokit, so
 * `@evalbot/report` imports it (`@evalbot/github/facts`) without a GitHub client.
 */

/** The hidden first line of every comment evalbot writes on a PR: how it finds its own comment. */
export const EVALBOT_COMMENT_MARKER = '<!-- evalbot:report -->';

/**
 * GitHub's limits, in characters: an issue comment's body (longer is refused with 422), and
 * each of a check run's `output.summary` and `output.text`.
 */
export const GITHUB_LIMITS = { commentBody: 65_536, checkRunOutput: 65_535 } as const;

/** A check run's `conclusion`, as `checks.update` accepts it. */
export type CheckRunConclusion =
  | 'success'
  | 'failure'
  | 'neutral'
  | 'cancelled'
  | 'skipped'
  | 'timed_out'
  | 'action_required'
  | 'stale';

/** A check run's `output`: title, summary and details (Markdown). */
export interface CheckRunOutput {
  title: string;
  summary: string;
  text?: string;
}

/** A finished check run: its conclusion and its output, details included. */
export interface CheckRunResult extends Required<CheckRunOutput> {
  conclusion: CheckRunConclusion;
}
