import type { CheckRunResult } from '@evalbot/github/facts';
import type { PullRequestRef } from '@evalbot/jobs';
import { COMMENT_MARKER, shortSha } from './comment-marker.ts';
import { commitLink, escapeMarkdown } from './markdown-text.ts';
import { type HistoryEntry, renderHistory, serializeReportHistory } from './report-history.ts';

export interface ForkRefusalInput {
  pr: Pick<PullRequestRef, 'repoHtmlUrl'>;
  headSha: string;
  /** The fork's author, who cannot write to the repository. */
  author: string;
  label: string;
  previousRuns?: readonly HistoryEntry[];
}

/**
 * The comment when new commits of a fork PR were not run: code from someone without write
 * access runs only after a maintainer looked at it and added the label again.
 */
export function renderForkRefusal(input: ForkRefusalInput): string {
  const previous = input.previousRuns ?? [];
  const label = escapeMarkdown(input.label);
  return `${[
    `${COMMENT_MARKER}\n## ✋ evalbot: new commits not evaluated`,
    `${commitLink(input.pr.repoHtmlUrl, input.headSha)} was pushed to this fork by **${escapeMarkdown(input.author)}**, who cannot write to this repository, so evalbot did not run it and removed the \`${label}\` label. A maintainer must review the new code and add the \`${label}\` label again (or comment \`/evaluate\`) to evaluate it.`,
    renderHistory(previous, input.pr.repoHtmlUrl),
    serializeReportHistory(previous),
  ]
    .filter((p) => p.length > 0)
    .join('\n\n')}\n`;
}

/** The check run for the same case: neutral, so it does not block, but says what is needed. */
export function renderForkRefusalCheckRun(
  input: Pick<ForkRefusalInput, 'headSha' | 'label'>,
): CheckRunResult {
  return {
    conclusion: 'neutral',
    title: 'Not run: a maintainer must approve these fork commits',
    summary: `${shortSha(input.headSha)} comes from a fork whose author cannot write to this repository. A maintainer must add the \`${input.label}\` label again (or comment \`/evaluate\`) to evaluate it.`,
    text: '',
  };
}
