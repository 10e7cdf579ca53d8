import type { SideOutcome } from '@evalbot/jobs';
import { formatChange, formatValue } from './format-number.ts';
import type { MetricRow } from './metric-rows.ts';
import { stageWords, type Verdict } from './verdict.ts';

const KEY_METRICS = 3;

/** Gated metrics first, then the rest, in table order. */
export function keyRows(rows: readonly MetricRow[]): MetricRow[] {
  return [...rows.filter((r) => r.threshold), ...rows.filter((r) => !r.threshold)];
}

function changeWords(row: MetricRow): string | undefined {
  if (row.change === undefined) return undefined;
  const noise = row.noise?.withinNoise ? ' (within noise)' : '';
  return `${row.name} ${formatChange(row.change, row.ratio)}${noise}`;
}

/**
 * What happened, in words: `accuracy +2.50 pts, loss −0.0478 — passes`. Plain text (it is also
 * the check run's title), so metric names are not escaped here.
 */
export function summaryLine(
  head: SideOutcome,
  base: SideOutcome,
  rows: readonly MetricRow[],
  verdict: Verdict,
): string {
  if (!head.ok) {
    const what =
      head.stage === 'config' ? 'head’s .evalbot.yml is invalid' : `head failed at ${stageWords(head.stage)}`;
    const lead = `${what}${base.ok ? '' : `, base failed at ${stageWords(base.stage)} too`}`;
    return `${lead} — ${verdict.words}`;
  }
  const key = keyRows(rows);
  if (!base.ok) {
    const values = key
      .filter((r) => r.head)
      .slice(0, KEY_METRICS)
      .map((r) => `${r.name} ${formatValue(r.head?.mean as number, r.ratio)}`);
    return `${values.length > 0 ? `${values.join(', ')} — ` : ''}${verdict.words}`;
  }
  const changes = key.map(changeWords).filter((w): w is string => w !== undefined);
  const shown = changes.slice(0, KEY_METRICS);
  const more = changes.length > shown.length ? ` (+${changes.length - shown.length} more)` : '';
  const lead = shown.length > 0 ? `${shown.join(', ')}${more}` : 'no metric on both sides';
  return `${lead} — ${verdict.words}`;
}
