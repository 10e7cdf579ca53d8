import type { SideOutcome } from '@evalbot/jobs';
import { metricLabel } from './markdown-text.ts';

/** Colours of the two lines; the legend above the charts names them. */
const HEAD_COLOUR = '#0969da';
const BASE_COLOUR = '#bc4c00';
/** More epochs than this are sampled evenly (first and last kept): a chart stays readable and short. */
const MAX_CHART_POINTS = 60;
const MAX_CHARTS = 8;

/** Per-epoch mean over a side's runs, for one history series. */
function seriesOf(outcome: SideOutcome, name: string): number[] | undefined {
  const runs = outcome.runs
    .map((r) => r.history[name])
    .filter((h): h is number[] => Array.isArray(h) && h.length > 0);
  if (runs.length === 0) return undefined;
  const length = Math.max(...runs.map((h) => h.length));
  const out: number[] = [];
  for (let epoch = 0; epoch < length; epoch++) {
    const values = runs.map((h) => h[epoch]).filter((v): v is number => v !== undefined);
    out.push(values.reduce((a, b) => a + b, 0) / values.length);
  }
  return out;
}

function seriesNames(outcome: SideOutcome): string[] {
  const names = new Set<string>();
  for (const run of outcome.runs) for (const name of Object.keys(run.history ?? {})) names.add(name);
  return [...names];
}

/** Epoch indexes (0-based) to draw: all, or an even sample that keeps the first and the last. */
function sampledEpochs(length: number): number[] {
  if (length <= MAX_CHART_POINTS) return Array.from({ length }, (_, i) => i);
  const step = (length - 1) / (MAX_CHART_POINTS - 1);
  return [...new Set(Array.from({ length: MAX_CHART_POINTS }, (_, i) => Math.round(i * step)))];
}

/** A number as Mermaid's xychart grammar reads it: plain decimal, never an exponent. */
function chartNumber(value: number): string {
  return Number(value.toPrecision(6)).toLocaleString('en-US', {
    useGrouping: false,
    maximumFractionDigits: 20,
  });
}

/** Text allowed inside a quoted xychart string. */
function chartText(text: string): string {
  return (
    text
      .replace(/[^\p{L}\p{N} _.,:/()+-]/gu, ' ')
      .slice(0, 60)
      .trim() || 'series'
  );
}

function mermaidChart(name: string, head: number[] | undefined, base: number[] | undefined): string {
  const length = Math.max(head?.length ?? 0, base?.length ?? 0);
  const epochs = sampledEpochs(length);
  const lines = [
    '```mermaid',
    `%%{init: {"themeVariables": {"xyChart": {"plotColorPalette": "${head ? HEAD_COLOUR : BASE_COLOUR}, ${BASE_COLOUR}"}}}}%%`,
    'xychart-beta',
    `  title "${chartText(name)}"`,
    `  x-axis "epoch" [${epochs.map((e) => e + 1).join(', ')}]`,
    `  y-axis "${chartText(name)}"`,
  ];
  for (const series of [head, base]) {
    if (!series) continue;
    // A shorter run stops where its epochs end.
    const points = epochs.filter((e) => e < series.length).map((e) => chartNumber(series[e] as number));
    lines.push(`  line [${points.join(', ')}]`);
  }
  lines.push('```');
  return lines.join('\n');
}

export interface ChartsInput {
  head: SideOutcome;
  base: SideOutcome;
  headLabel: string;
  baseLabel: string;
  maxCharts?: number;
}

/**
 * Training-history charts: one Mermaid `xychart-beta` per history series (e.g. `loss`,
 * `val_accuracy`), head and base as two lines. Empty when neither side wrote history.
 */
export function renderCharts(input: ChartsInput): string {
  const names = [...new Set([...seriesNames(input.head), ...seriesNames(input.base)])];
  const charts: string[] = [];
  const skipped: string[] = [];
  for (const name of names) {
    const head = seriesOf(input.head, name);
    const base = seriesOf(input.base, name);
    if ([...(head ?? []), ...(base ?? [])].some((v) => !Number.isFinite(v))) {
      skipped.push(`${metricLabel(name)} (not every value is a finite number)`);
      continue;
    }
    if (!head && !base) continue;
    charts.push(mermaidChart(name, head, base));
  }
  if (charts.length === 0 && skipped.length === 0) return '';
  const max = input.maxCharts ?? MAX_CHARTS;
  const shown = charts.slice(0, max);
  const headHas = seriesNames(input.head).length > 0;
  const baseHas = seriesNames(input.base).length > 0;
  const legend = [
    headHas ? `🟦 head ${input.headLabel}` : `head ${input.headLabel} wrote no history`,
    baseHas ? `🟧 base ${input.baseLabel}` : `base ${input.baseLabel} wrote no history`,
  ].join(' · ');
  const parts = ['### Training history', '', `Per epoch${sampledNote(input)}: ${legend}.`, ''];
  for (const chart of shown) parts.push(chart, '');
  if (charts.length > shown.length) parts.push(`${charts.length - shown.length} more series not drawn.`, '');
  if (skipped.length > 0) parts.push(`Not drawn: ${skipped.join(', ')}.`, '');
  return parts.join('\n').trimEnd();
}

function sampledNote(input: ChartsInput): string {
  const runs = Math.max(input.head.runs.length, input.base.runs.length);
  return runs > 1 ? ', mean over runs' : '';
}
