import type { SideOutcome } from '@evalbot/jobs';
import type { Direction, RepoConfig } from '@evalbot/repo-config';
import { type DirectionSource, directionOf, isRatioMetric } from './metric-direction.ts';
import { mean, sampleStandardDeviation, welchTTest } from './statistics.ts';

/** One side's values of one metric: one per run. */
export interface SideStats {
  values: number[];
  mean: number;
  /** Sample standard deviation; only with two or more runs. */
  sd?: number;
}

/** How the head compares with the base for one metric, following its direction. */
export type Outcome = 'better' | 'worse' | 'unchanged' | 'changed' | 'only-head' | 'only-base';

export interface ThresholdCheck {
  /** `fail_if_worse_by`, in the metric's units. */
  absolute?: number;
  /** `fail_if_worse_by_pct`, percent of the base value. */
  percent?: number;
  /** How much worse the head is (positive = worse), in the metric's units. */
  worseBy?: number;
  /** `worseBy` as a percentage of the base value (Infinity for a zero base). */
  worsePct?: number;
  /** Which limit was exceeded, when one was: the absolute one is named first. */
  exceededLimit?: 'absolute' | 'percent';
  /** True when the head is worse by more than a threshold (before the noise check). */
  exceeded: boolean;
  /** True when the threshold fails the check: exceeded and not within noise, or missing on head. */
  fails: boolean;
  /** Why the threshold cannot be checked, e.g. a neutral metric. */
  unchecked?: string;
}

/** One row of the diff table. */
export interface MetricRow {
  name: string;
  direction: Direction;
  directionSource: DirectionSource;
  /** Shown as a percentage, changes in percentage points. */
  ratio: boolean;
  base?: SideStats;
  head?: SideStats;
  /** head mean − base mean. */
  change?: number;
  /** change / |base mean|; undefined when the base is 0. */
  relative?: number;
  outcome: Outcome;
  /** Welch's t-test, when both sides have two or more runs. */
  noise?: { pValue: number; withinNoise: boolean };
  threshold?: ThresholdCheck;
}

function statsOf(values: number[]): SideStats | undefined {
  if (values.length === 0) return undefined;
  return values.length > 1
    ? { values, mean: mean(values), sd: sampleStandardDeviation(values) }
    : { values, mean: values[0] as number };
}

/** Metric names of a side's runs, in first-seen order. */
function metricNames(outcome: SideOutcome | undefined): string[] {
  const names = new Set<string>();
  for (const run of outcome?.ok ? outcome.runs : [])
    for (const name of Object.keys(run.metrics)) names.add(name);
  return [...names];
}

function valuesOf(outcome: SideOutcome, name: string): number[] {
  if (!outcome.ok) return [];
  return outcome.runs.map((run) => run.metrics[name]).filter((v): v is number => Number.isFinite(v));
}

function isUnchanged(a: number, b: number): boolean {
  if (!Number.isFinite(a) || !Number.isFinite(b)) return a === b;
  return Math.abs(a - b) <= 1e-12 * Math.max(1, Math.abs(a), Math.abs(b));
}

function checkThreshold(
  settings: RepoConfig['metrics'][string] | undefined,
  direction: Direction,
  row: Pick<MetricRow, 'base' | 'head' | 'noise'>,
): ThresholdCheck | undefined {
  const absolute = settings?.fail_if_worse_by;
  const percent = settings?.fail_if_worse_by_pct;
  if (absolute === undefined && percent === undefined) return undefined;
  const check: ThresholdCheck = { absolute, percent, exceeded: false, fails: false };
  if (direction === 'neutral') {
    return { ...check, unchecked: 'it has no direction: set `direction: higher` or `lower`' };
  }
  if (!row.base) return { ...check, unchecked: 'the base has no value to compare with' };
  if (!row.head) return { ...check, exceeded: true, fails: true };
  const worseBy = direction === 'higher' ? row.base.mean - row.head.mean : row.head.mean - row.base.mean;
  // A zero base makes any worsening infinitely many percent worse.
  const worsePct =
    row.base.mean === 0
      ? worseBy > 0
        ? Number.POSITIVE_INFINITY
        : 0
      : (worseBy / Math.abs(row.base.mean)) * 100;
  let exceededLimit: ThresholdCheck['exceededLimit'];
  if (percent !== undefined && worseBy > 0 && worsePct > percent && !isUnchanged(worsePct, percent)) {
    exceededLimit = 'percent';
  }
  if (absolute !== undefined && worseBy > absolute && !isUnchanged(worseBy, absolute))
    exceededLimit = 'absolute';
  const exceeded = exceededLimit !== undefined;
  const result: ThresholdCheck = {
    ...check,
    worseBy,
    worsePct,
    exceeded,
    fails: exceeded && !row.noise?.withinNoise,
  };
  if (exceededLimit) result.exceededLimit = exceededLimit;
  return result;
}

/**
 * The diff table's rows: one per metric found on either side (head's order, then base-only
 * metrics). Directions, thresholds and the significance level come from `config`, which must be
 * the **base** commit's: a PR cannot change how it is judged.
 */
export function buildMetricRows(
  head: SideOutcome,
  base: SideOutcome,
  config: Pick<RepoConfig, 'metrics' | 'significance'>,
): MetricRow[] {
  const names = [...new Set([...metricNames(head), ...metricNames(base)])];
  return names.map((name) => {
    const { direction, source } = directionOf(name, config);
    const headStats = statsOf(valuesOf(head, name));
    const baseStats = statsOf(valuesOf(base, name));
    const ratio = isRatioMetric(name, [...(headStats?.values ?? []), ...(baseStats?.values ?? [])]);
    const row: MetricRow = { name, direction, directionSource: source, ratio, outcome: 'unchanged' };
    if (headStats) row.head = headStats;
    if (baseStats) row.base = baseStats;
    if (!headStats || !baseStats) {
      row.outcome = headStats ? 'only-head' : 'only-base';
    } else {
      row.change = headStats.mean - baseStats.mean;
      if (baseStats.mean !== 0) row.relative = row.change / Math.abs(baseStats.mean);
      const welch = welchTTest(headStats.values, baseStats.values);
      if (welch) row.noise = { pValue: welch.pValue, withinNoise: welch.pValue >= config.significance };
      if (isUnchanged(headStats.mean, baseStats.mean)) row.outcome = 'unchanged';
      else if (direction === 'neutral') row.outcome = 'changed';
      else row.outcome = row.change > 0 === (direction === 'higher') ? 'better' : 'worse';
    }
    const threshold = checkThreshold(config.metrics[name], direction, row);
    if (threshold) row.threshold = threshold;
    return row;
  });
}

/** Names in the base config that have thresholds but were reported by neither side. */
export function thresholdsWithoutMetrics(
  rows: readonly MetricRow[],
  config: Pick<RepoConfig, 'metrics'>,
): string[] {
  const seen = new Set(rows.map((r) => r.name));
  return Object.entries(config.metrics)
    .filter(
      ([name, s]) =>
        !seen.has(name) && (s.fail_if_worse_by !== undefined || s.fail_if_worse_by_pct !== undefined),
    )
    .map(([name]) => name);
}
