import type { SideOutcome } from '@evalbot/jobs';
import { metricLabel } from './markdown-text.ts';

/** Colours of the two lines; the legend above the charts names them. */
const HEAD_COLOUR = '#0969da';
const BASE_COLOUR = '#bc4c00';
/** More epochs than this are sampled evenly (first and last kept): a chart stays readable and short. */
const MAX_CHART_POINTS = 60;
const MAX_CHARTS = 8;

/** One side's series: its epochs, and the mean over the side's runs at an epoch. */
interface SideSeries {
  length: number;
  at(epoch: number): number | undefined;
}

/**
 * Per-epoch mean over a side's runs, for one history series. A run's series sampled to fewer
 * points than its epochs (`historyEpochs`) gives each epoch its nearest kept point. Computed
 * only at the epochs a chart draws: a sampled series may stand for many epochs.
 */
function seriesOf(outcome: SideOutcome, name: string): SideSeries | undefined {
  const runs = outcome.runs.flatMap((r) => {
    // Own keys only: a series named `constructor` that one run lacks must not read Object's.
    const points = Object.hasOwn(r.history, name) ? r.history[name] : undefined;
    if (!Array.isArray(points) || points.length === 0) return [];
    const epochs =
      r.historyEpochs && Object.hasOwn(r.historyEpochs, name) ? r.historyEpochs[name] : undefined;
    const length = epochs && epochs > points.length ? epochs : points.length;
    const scale = length > 1 ? (points.length - 1) / (length - 1) : 0;
    return [
      { length, at: (epoch: number) => (epoch < length ? points[Math.round(epoch * scale)] : undefined) },
    ];
  });
  if (runs.length === 0) return undefined;
  return {
    length: Math.max(...runs.map((h) => h.length)),
    at: (epoch) => {
      const values = runs.map((h) => h.at(epoch)).filter((v): v is number => v !== undefined);
      return values.length > 0 ? values.reduce((a, b) => a + b, 0) / values.length : undefined;
    },
  };
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

function mermaidChart(name: string, head: SideSeries | undefined, base: SideSeries | undefined): string {
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
    const points = epochs.filter((e) => e < series.length).map((e) => chartNumber(series.at(e) as number));
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
    const epochs = sampledEpochs(Math.max(head?.length ?? 0, base?.length ?? 0));
    const drawn = [head, base].flatMap((side) =>
      side ? epochs.filter((e) => e < side.length).map((e) => side.at(e)) : [],
    );
    if (drawn.some((v) => v === undefined || !Number.isFinite(v))) {
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
