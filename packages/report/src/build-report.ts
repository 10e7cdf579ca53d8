import type { CheckRunResult } from '@evalbot/github/facts';
import type { PullRequestRef, SideOutcome } from '@evalbot/jobs';
import type { RepoConfig } from '@evalbot/repo-config';
import { COMMENT_MARKER, shortSha } from './comment-marker.ts';
import {
  type Budget,
  CHECK_SUMMARY_LIMIT,
  CHECK_TEXT_LIMIT,
  COMMENT_LIMIT,
  fitToLimit,
} from './fit-to-limit.ts';
import { formatTime } from './format-number.ts';
import { commitLink, escapeHtml, escapeMarkdown, neutralizeReferences, truncate } from './markdown-text.ts';
import { buildMetricRows, type MetricRow } from './metric-rows.ts';
import { renderCharts } from './render-charts.ts';
import { renderContext } from './render-context.ts';
import { type ConfigErrorLike, prepareLog, renderConfigError, renderFailure } from './render-failure.ts';
import { renderTable, tableNotes } from './render-table.ts';
import { conclusionMark, renderNoiseNote, renderVerdictDetail } from './render-verdict.ts';
import {
  type HistoryEntry,
  historyEntry,
  MAX_HISTORY,
  renderHistory,
  serializeReportHistory,
} from './report-history.ts';
import { keyRows, summaryLine } from './summary-line.ts';
import { decideVerdict, type Verdict } from './verdict.ts';

export interface BuildReportInput {
  /** The PR; only its web URL is needed (commit links). */
  pr: Pick<PullRequestRef, 'repoHtmlUrl'>;
  head: SideOutcome;
  base: SideOutcome;
  /**
   * The **base** commit's config. Directions, thresholds and the significance level come only
   * from here, so a PR cannot loosen its own gate by editing `.evalbot.yml`.
   */
  baseConfig: RepoConfig;
  /** Invalid `.evalbot.yml` per side (the side then usually failed at `config`). */
  configErrors?: { head?: ConfigErrorLike; base?: ConfigErrorLike };
  /** Earlier runs on this PR, e.g. `parseReportHistory(previousComment.body)`. */
  previousRuns?: readonly HistoryEntry[];
  /** The report's time (history entry); passed in so output is reproducible. */
  now: Date;
  /** Values to redact from logs and messages, on top of token-shaped strings. */
  secrets?: readonly string[];
}

export interface Report {
  /** The PR comment, starting with {@link COMMENT_MARKER}, at most 65,536 characters. */
  markdown: string;
  /** Its conclusion and `output`, ready for `checks.update`. */
  checkRun: CheckRunResult;
  verdict: Verdict;
  /** The one-line summary (also the check run's title). */
  summaryLine: string;
  rows: MetricRow[];
  /** History embedded in `markdown`, oldest first, this run last. */
  history: HistoryEntry[];
  /** What the comment kept to stay under GitHub's limit (log characters, history rows, charts…). */
  commentBudget: Budget;
}

/** Rows to show under a row budget: failing, gated, worse, better, the rest — kept in table order. */
function rowsWithin(rows: readonly MetricRow[], maxRows: number): MetricRow[] {
  if (rows.length <= maxRows) return [...rows];
  const rank = (r: MetricRow) =>
    r.threshold?.fails ? 0 : r.threshold ? 1 : r.outcome === 'worse' ? 2 : r.outcome === 'better' ? 3 : 4;
  const chosen = new Set([...rows].sort((a, b) => rank(a) - rank(b)).slice(0, maxRows));
  return rows.filter((r) => chosen.has(r));
}

function section(parts: (string | undefined | false)[]): string {
  return parts.filter((p): p is string => typeof p === 'string' && p.length > 0).join('\n\n');
}

/**
 * Compare the head's and the base's outcomes and render the PR comment, the check run's output and
 * the verdict. Pure: the same input gives the same output.
 */
export function buildReport(input: BuildReportInput): Report {
  const { head, base, baseConfig } = input;
  const repo = input.pr.repoHtmlUrl;
  const secrets = input.secrets ?? [];
  const rows = buildMetricRows(head, base, baseConfig);
  const verdict = decideVerdict(head, base, rows, baseConfig);
  const summary = summaryLine(head, base, rows, verdict);
  const ctx = {
    headLabel: `\`${shortSha(head.sha)}\``,
    baseLabel: `\`${shortSha(base.sha)}\``,
    headOk: head.ok,
    baseOk: base.ok,
  };
  // The same commits again (a retried publish, or /evaluate on an unchanged PR) replace their
  // earlier entry instead of listing the same comparison twice.
  const previous = (input.previousRuns ?? []).filter(
    (e) => !(e.headSha === head.sha && e.baseSha === base.sha),
  );
  const entry = historyEntry({
    headSha: head.sha,
    baseSha: base.sha,
    at: input.now,
    conclusion: verdict.conclusion,
    summary,
    metrics: keyRows(rows).map((r) => ({
      name: r.name,
      value: r.head?.mean,
      ratio: r.ratio,
      gated: r.threshold !== undefined,
    })),
  });
  const history = [...previous, entry].slice(-MAX_HISTORY);
  const runsLine = (() => {
    const n = Math.max(head.runs.length, base.runs.length);
    return n > 1 ? `${head.runs.length} head runs and ${base.runs.length} base runs` : '1 run per side';
  })();
  const intro = `Head ${commitLink(repo, head.sha)} against base ${commitLink(repo, base.sha)} · ${runsLine}.`;
  const detail = renderVerdictDetail(verdict, head, base);
  const noise = renderNoiseNote(head, base, baseConfig);

  const tableBlock = (maxRows: number) => {
    if (rows.length === 0) return '_Neither side reported any metric._';
    const shown = rowsWithin(rows, maxRows);
    const lines = renderTable(shown, ctx);
    const notes = tableNotes(shown, ctx, verdict.unchecked).map((n) => `- ${n}`);
    if (shown.length < rows.length) {
      notes.unshift(
        `- ${rows.length - shown.length} more metrics are not shown: the report would exceed GitHub’s size limit. Failing and gated metrics are shown first.`,
      );
    }
    return section([lines.join('\n'), notes.join('\n')]);
  };
  const configWarnings = (budget: Budget) =>
    (['head', 'base'] as const)
      .filter((side) => input.configErrors?.[side] && (side === 'head' ? head : base).ok)
      .map(
        (side) =>
          `⚠️ The ${side}’s \`.evalbot.yml\` could not be used, so the defaults were.\n\n${renderConfigError(input.configErrors?.[side] as ConfigErrorLike, side, budget.problemChars)}`,
      );
  const logLines = {
    head: head.ok ? [] : prepareLog(head.logTail, secrets),
    base: base.ok ? [] : prepareLog(base.logTail, secrets),
  };
  const failures = (budget: Budget) =>
    (['head', 'base'] as const).map((side) => {
      const outcome = side === 'head' ? head : base;
      if (outcome.ok) return undefined;
      return renderFailure({
        side,
        outcome,
        shaHtml: `<code>${escapeHtml(shortSha(outcome.sha))}</code>`,
        logChars: budget.logChars,
        problemChars: budget.problemChars,
        logLines: logLines[side],
        secrets,
        configError: input.configErrors?.[side],
      });
    });
  const headline = `## ${conclusionMark(verdict, base)} evalbot: ${escapeMarkdown(truncate(summary, 250))}`;

  // The footer and the embedded history are a tail the cut never reaches: the body is fitted to
  // what the tail leaves, so even a body hard-cut by `fitToLimit` keeps the PR's history.
  const tail = `\n\n${section([`<sub>Updated ${formatTime(input.now)} by evalbot.</sub>`, serializeReportHistory(history)])}\n`;
  const body = fitToLimit(
    (budget) =>
      `${COMMENT_MARKER}\n${section([
        headline,
        intro,
        detail,
        tableBlock(budget.maxRows),
        noise,
        ...configWarnings(budget),
        ...failures(budget),
        budget.charts && renderCharts({ head, base, headLabel: ctx.headLabel, baseLabel: ctx.baseLabel }),
        budget.context && renderContext({ repoHtmlUrl: repo, head, base }),
        renderHistory(previous, repo, budget.historyRows),
      ])}`,
    COMMENT_LIMIT - tail.length,
    rows.length,
  );
  const comment = { text: body.text + tail, budget: body.budget };

  const checkSummary = fitToLimit(
    (budget) => section([intro, detail, tableBlock(budget.maxRows), noise]),
    CHECK_SUMMARY_LIMIT,
    rows.length,
  );
  const checkText = fitToLimit(
    (budget) =>
      section([
        ...configWarnings(budget),
        ...failures(budget),
        budget.context && renderContext({ repoHtmlUrl: repo, head, base }),
        budget.historyRows > 0 && renderHistory(previous, repo, budget.historyRows),
      ]),
    CHECK_TEXT_LIMIT,
    0,
    24_000,
  );

  return {
    markdown: comment.text,
    checkRun: {
      conclusion: verdict.conclusion,
      // Plain text, but metric names in it are the PR's: no mention or link once shown.
      // One line: a metric name may hold a newline.
      title: neutralizeReferences(truncate(summary.replace(/\s+/g, ' '), 200)),
      summary: checkSummary.text,
      text: checkText.text,
    },
    verdict,
    summaryLine: summary,
    rows,
    history,
    commentBudget: comment.budget,
  };
}
