import {
  formatChange,
  formatNumber,
  formatRelative,
  formatSpread,
  formatValue,
  MISSING,
} from './format-number.ts';
import { metricLabel } from './markdown-text.ts';
import type { MetricRow, SideStats } from './metric-rows.ts';

export interface TableContext {
  headLabel: string;
  baseLabel: string;
  headOk: boolean;
  baseOk: boolean;
}

const ARROWS = { higher: ' ↑', lower: ' ↓', neutral: '' } as const;

function formatStats(stats: SideStats | undefined, ratio: boolean, sideOk: boolean): string {
  if (!stats) return sideOk ? `${MISSING}¹` : MISSING;
  const value = formatValue(stats.mean, ratio);
  return stats.sd === undefined ? value : `${value} ± ${formatSpread(stats.sd, ratio)}`;
}

function pWords(row: MetricRow): string {
  if (!row.noise) return '';
  return row.noise.pValue < 0.001 ? ' (p < 0.001)' : ` (p = ${formatNumber(row.noise.pValue, 2)})`;
}

function limitText(row: MetricRow): string {
  const t = row.threshold;
  const parts: string[] = [];
  if (t?.absolute !== undefined) parts.push(formatChange(t.absolute, row.ratio).replace(/^\+/, ''));
  if (t?.percent !== undefined) parts.push(`${formatNumber(t.percent)}%`);
  return parts.join(' or ');
}

/** The last column: better / worse / unchanged following the metric's direction, noise and gate. */
export function resultCell(row: MetricRow, ctx: Pick<TableContext, 'headOk' | 'baseOk'>): string {
  if (!ctx.headOk) return 'head failed';
  if (!ctx.baseOk) return 'not compared';
  const t = row.threshold;
  switch (row.outcome) {
    case 'only-head':
      return '🆕 only in head';
    case 'only-base':
      return t?.fails ? '🔴 missing in head · **fails** (gated)' : '➖ missing in head';
    case 'unchanged':
      return '⚪ unchanged';
    case 'changed':
      return row.noise?.withinNoise ? `⚪ within noise${pWords(row)}` : `🔵 changed${pWords(row)}`;
    case 'better':
      return row.noise?.withinNoise ? `⚪ within noise${pWords(row)}` : `🟢 better${pWords(row)}`;
    case 'worse':
      if (t?.fails) return `🔴 worse${pWords(row)} · **fails** (limit ${limitText(row)})`;
      if (row.noise?.withinNoise) {
        return t?.exceeded
          ? `⚪ within noise${pWords(row)} · over limit ${limitText(row)}, not failed`
          : `⚪ within noise${pWords(row)}`;
      }
      if (t && !t.unchecked) return `🟠 worse${pWords(row)}, within limit ${limitText(row)}`;
      return `🔴 worse${pWords(row)}`;
  }
}

/** One Markdown table line per row: metric, base, head, change, relative change, result. */
export function renderTable(rows: readonly MetricRow[], ctx: TableContext): string[] {
  const lines = [
    `| Metric | Base ${ctx.baseLabel} | Head ${ctx.headLabel} | Change | Relative | Result |`,
    '|:--|--:|--:|--:|--:|:--|',
  ];
  for (const row of rows) {
    const change = row.change === undefined ? MISSING : formatChange(row.change, row.ratio);
    const relative = row.change === undefined ? MISSING : formatRelative(row.relative);
    lines.push(
      `| ${metricLabel(row.name)}${ARROWS[row.direction]} | ${formatStats(row.base, row.ratio, ctx.baseOk)} | ${formatStats(row.head, row.ratio, ctx.headOk)} | ${change} | ${relative} | ${resultCell(row, ctx)} |`,
    );
  }
  return lines;
}

/** Notes that explain the table: missing values, directions, thresholds that could not be checked. */
export function tableNotes(
  rows: readonly MetricRow[],
  ctx: Pick<TableContext, 'headOk' | 'baseOk'>,
  unchecked: readonly { name: string; reason: string }[],
): string[] {
  const notes: string[] = [];
  if (ctx.headOk && ctx.baseOk) {
    const onlyHead = rows.filter((r) => r.outcome === 'only-head').map((r) => metricLabel(r.name));
    const onlyBase = rows.filter((r) => r.outcome === 'only-base').map((r) => metricLabel(r.name));
    if (onlyHead.length > 0) {
      notes.push(
        `¹ Missing on base: ${onlyHead.join(', ')} — the base's metrics file did not have ${onlyHead.length === 1 ? 'it' : 'them'} (a new metric?), so there is nothing to compare.`,
      );
    }
    if (onlyBase.length > 0) {
      notes.push(
        `¹ Missing on head: ${onlyBase.join(', ')} — the head's metrics file no longer has ${onlyBase.length === 1 ? 'it' : 'them'} (renamed or removed?).`,
      );
    }
  }
  const directions = new Set(rows.map((r) => r.direction));
  if (directions.has('higher') || directions.has('lower')) {
    notes.push(
      '↑ higher is better, ↓ lower is better: from `metrics.<name>.direction` in the base branch’s `.evalbot.yml` where set, else guessed from the metric’s name.',
    );
  }
  if (rows.some((r) => r.direction === 'neutral')) {
    notes.push('Metrics without an arrow have no known direction, so a change is neither better nor worse.');
  }
  for (const u of unchecked) {
    notes.push(`The threshold on ${metricLabel(u.name)} was not checked: ${u.reason}.`);
  }
  return notes;
}
