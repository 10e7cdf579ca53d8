import { z } from 'zod';
import { formatTime, formatValue, MISSING } from './format-number.ts';
import { commitLink, escapeMarkdown, truncate } from './markdown-text.ts';

/** Runs kept in a comment's history. */
export const MAX_HISTORY = 10;
const MAX_HISTORY_METRICS = 4;
const HISTORY_START = '<!-- evalbot:history ';
const HISTORY_END = ' -->';

/** One earlier evaluation of the PR, as kept inside the comment. */
export const historyEntrySchema = z.object({
  headSha: z.string().regex(/^[0-9a-f]{7,64}$/),
  baseSha: z.string().regex(/^[0-9a-f]{7,64}$/),
  /** When the report was made (ISO 8601). */
  at: z.iso.datetime(),
  conclusion: z.enum(['success', 'failure', 'neutral', 'cancelled']),
  /** The report's summary line, e.g. `accuracy +2.50 pts, loss −0.0478 — passes`. */
  summary: z.string().max(300),
  /** Head means of a few key metrics; ratios stay in [0, 1]. */
  metrics: z.record(z.string().max(80), z.number()).default({}),
  /** Names of `metrics` shown as percentages. */
  ratios: z.array(z.string()).default([]),
});
export type HistoryEntry = z.infer<typeof historyEntrySchema>;

/**
 * The history embedded in an earlier comment body, oldest first. Tolerant: a body without
 * history, with broken JSON, or with entries of another shape yields the entries that parse.
 */
export function parseReportHistory(body: string | undefined | null): HistoryEntry[] {
  if (!body) return [];
  const start = body.lastIndexOf(HISTORY_START);
  if (start < 0) return [];
  const end = body.indexOf(HISTORY_END, start + HISTORY_START.length);
  if (end < 0) return [];
  let raw: unknown;
  try {
    raw = JSON.parse(body.slice(start + HISTORY_START.length, end));
  } catch {
    // A hand-edited or truncated comment loses its history, never the new report.
    return [];
  }
  if (!Array.isArray(raw)) return [];
  const entries: HistoryEntry[] = [];
  for (const item of raw) {
    const parsed = historyEntrySchema.safeParse(item);
    if (parsed.success) entries.push(parsed.data);
  }
  return entries.slice(-MAX_HISTORY);
}

/**
 * The history as an HTML comment, invisible on GitHub. `<` and `>` are written as JSON escapes
 * so no metric name can end the comment early, and so are DEL, C1 and bidi controls.
 */
export function serializeReportHistory(entries: readonly HistoryEntry[]): string {
  const json = JSON.stringify(entries.slice(-MAX_HISTORY))
    .replace(/</g, '\\u003c')
    .replace(/>/g, '\\u003e')
    // DEL, C1 and bidi controls, which JSON leaves raw: the CLI prints this comment to a terminal.
    .replace(
      /[\u007f-\u009f\u202a-\u202e\u2066-\u2069]/g,
      (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`,
    );
  return `${HISTORY_START}${json}${HISTORY_END}`;
}

/** A new entry, with at most four head metrics (threshold metrics first). */
export function historyEntry(input: {
  headSha: string;
  baseSha: string;
  at: Date;
  conclusion: HistoryEntry['conclusion'];
  summary: string;
  metrics: readonly { name: string; value: number | undefined; ratio: boolean; gated: boolean }[];
}): HistoryEntry {
  const ordered = [...input.metrics.filter((m) => m.gated), ...input.metrics.filter((m) => !m.gated)].filter(
    (m): m is typeof m & { value: number } => m.value !== undefined && Number.isFinite(m.value),
  );
  const chosen = ordered.slice(0, MAX_HISTORY_METRICS).map((m) => ({ ...m, name: truncate(m.name, 80) }));
  return {
    headSha: input.headSha,
    baseSha: input.baseSha,
    at: input.at.toISOString(),
    conclusion: input.conclusion,
    summary: truncate(input.summary, 300),
    metrics: Object.fromEntries(chosen.map((m) => [m.name, Number(m.value.toPrecision(6))])),
    ratios: chosen.filter((m) => m.ratio).map((m) => m.name),
  };
}

const CONCLUSION_MARKS: Record<HistoryEntry['conclusion'], string> = {
  success: '✅ passed',
  failure: '❌ failed',
  neutral: 'ℹ️ neutral',
  cancelled: '⏹️ cancelled',
};

/** Earlier runs, newest first, as a collapsed table; empty when there are none. */
export function renderHistory(
  entries: readonly HistoryEntry[],
  repoHtmlUrl: string,
  maxRows = MAX_HISTORY,
): string {
  const shown = entries.slice(-maxRows).reverse();
  if (shown.length === 0 || maxRows <= 0) return '';
  const rows = shown.map((e) => {
    const metrics = Object.entries(e.metrics)
      .map(([name, value]) => `${escapeMarkdown(name)} ${formatValue(value, e.ratios.includes(name))}`)
      .join(', ');
    return `| ${formatTime(new Date(e.at))} | ${commitLink(repoHtmlUrl, e.headSha)} | ${commitLink(repoHtmlUrl, e.baseSha)} | ${metrics || MISSING} | ${CONCLUSION_MARKS[e.conclusion]} |`;
  });
  return [
    '<details>',
    `<summary>Earlier runs on this PR (${shown.length})</summary>`,
    '',
    '| When | Head | Base | Head metrics | Verdict |',
    '|:--|:--|:--|:--|:--|',
    ...rows,
    '',
    '</details>',
  ].join('\n');
}
