import type { CheckRunResult } from '@evalbot/github/facts';
import type { PullRequestRef, Stage } from '@evalbot/jobs';
import { COMMENT_MARKER, shortSha } from './comment-marker.ts';
import { formatTime } from './format-number.ts';
import { commitLink, escapeMarkdown, truncate } from './markdown-text.ts';
import { type HistoryEntry, renderHistory, serializeReportHistory } from './report-history.ts';

export interface SideProgress {
  stage: Stage;
  /** What the side is doing, e.g. `installing requirements`. */
  message?: string;
  /** 0–100. */
  percent?: number;
}

export interface PendingInput {
  pr: Pick<PullRequestRef, 'repoHtmlUrl'>;
  headSha: string;
  baseSha: string;
  startedAt: Date;
  /** The head whose evaluation this one replaces (a newer push arrived). */
  supersededSha?: string;
  /** Where each side is, when the worker knows. */
  progress?: { head?: SideProgress; base?: SideProgress };
  /** Kept in the comment so the final report can show them. */
  previousRuns?: readonly HistoryEntry[];
}

function progressLine(side: 'head' | 'base', p: SideProgress | undefined): string | undefined {
  if (!p) return undefined;
  const percent = p.percent === undefined ? '' : ` (${Math.round(Math.min(100, Math.max(0, p.percent)))}%)`;
  const message = p.message ? `: ${escapeMarkdown(truncate(p.message, 120))}` : '';
  return `- ${side}: **${p.stage}**${message}${percent}`;
}

/** The comment shown while an evaluation runs: `⏳ evaluating head abc1234 against base def5678 …`. */
export function renderPending(input: PendingInput): string {
  const repo = input.pr.repoHtmlUrl;
  const previous = input.previousRuns ?? [];
  const progress = [
    progressLine('head', input.progress?.head),
    progressLine('base', input.progress?.base),
  ].filter((l): l is string => l !== undefined);
  const parts = [
    `${COMMENT_MARKER}\n## ⏳ evalbot: evaluating head ${commitLink(repo, input.headSha)} against base ${commitLink(repo, input.baseSha)} …`,
    `Started ${formatTime(input.startedAt)}. Both commits are trained and evaluated side by side; this comment is updated with the results.`,
    progress.length > 0 ? progress.join('\n') : '',
    input.supersededSha
      ? `> The evaluation of ${commitLink(repo, input.supersededSha)} was stopped: a newer commit was pushed.`
      : '',
    renderHistory(previous, repo),
    `<sub>Updated ${formatTime(input.startedAt)} by evalbot.</sub>`,
    serializeReportHistory(previous),
  ];
  return `${parts.filter((p) => p.length > 0).join('\n\n')}\n`;
}

/** Check-run output while the evaluation runs (no conclusion yet). */
export function renderPendingCheckRun(input: Pick<PendingInput, 'headSha' | 'baseSha' | 'startedAt'>): {
  title: string;
  summary: string;
} {
  return {
    title: `Evaluating head ${shortSha(input.headSha)} against base ${shortSha(input.baseSha)}`,
    summary: `Started ${formatTime(input.startedAt)}. Both commits are trained and evaluated; the result and the comparison appear here and in the PR comment.`,
  };
}

/** Check-run output for an evaluation replaced by a newer push. */
export function renderSuperseded(input: { headSha: string; newHeadSha: string }): CheckRunResult {
  return {
    conclusion: 'cancelled',
    title: `Superseded by ${shortSha(input.newHeadSha)}`,
    summary: `A newer commit (${shortSha(input.newHeadSha)}) was pushed to the pull request, so the evaluation of ${shortSha(input.headSha)} was stopped. The newer commit is evaluated instead; see its check run.`,
    text: '',
  };
}

/** Why an evaluation was cancelled. */
export type CancelReason = 'closed' | 'unlabeled';

function cancelWords(reason: CancelReason, label?: string): string {
  if (reason === 'closed') return 'the pull request was closed';
  return `the \`${escapeMarkdown(label ?? 'evaluate')}\` label was removed`;
}

/** Check-run output for an evaluation cancelled because the PR was closed or unlabeled. */
export function renderCancelled(input: {
  headSha: string;
  reason: CancelReason;
  label?: string;
}): CheckRunResult {
  const words = cancelWords(input.reason, input.label);
  return {
    conclusion: 'cancelled',
    title: `Cancelled: ${words.replace(/\\/g, '').replace(/`/g, '')}`,
    summary: `The evaluation of ${shortSha(input.headSha)} was stopped because ${words}. ${input.reason === 'closed' ? 'Reopen the pull request' : 'Add the label again'} to evaluate it.`,
    text: '',
  };
}

/** The comment after a cancellation: says why, keeps the history. */
export function renderCancelledComment(input: {
  pr: Pick<PullRequestRef, 'repoHtmlUrl'>;
  headSha: string;
  reason: CancelReason;
  label?: string;
  previousRuns?: readonly HistoryEntry[];
}): string {
  const previous = input.previousRuns ?? [];
  const words = cancelWords(input.reason, input.label);
  return `${[
    `${COMMENT_MARKER}\n## ⏹️ evalbot: evaluation of ${commitLink(input.pr.repoHtmlUrl, input.headSha)} cancelled`,
    `It was stopped because ${words}. ${input.reason === 'closed' ? 'Reopen the pull request' : 'Add the label again'} to evaluate it.`,
    renderHistory(previous, input.pr.repoHtmlUrl),
    serializeReportHistory(previous),
  ]
    .filter((p) => p.length > 0)
    .join('\n\n')}\n`;
}
