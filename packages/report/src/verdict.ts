import type { SideOutcome, Stage } from '@evalbot/jobs';
import type { RepoConfig } from '@evalbot/repo-config';
import { formatChange, formatNumber } from './format-number.ts';
import { type MetricRow, thresholdsWithoutMetrics } from './metric-rows.ts';

/** Check-run conclusions the report decides. */
export type Conclusion = 'success' | 'failure' | 'neutral';

export interface Verdict {
  conclusion: Conclusion;
  /** Short words for the summary line: `passes`, `fails: accuracy 1.20 pts worse (limit 0.50 pts)`. */
  words: string;
  /** Each failed gate or side, in words; empty on success and neutral. */
  failures: string[];
  /** Why the check is neutral, when it is. */
  neutralReason?: string;
  /** Metrics whose thresholds were set but could not be checked, with the reason. */
  unchecked: { name: string; reason: string }[];
}

export function stageWords(stage: Stage): string {
  return stage === 'config' ? 'reading .evalbot.yml' : stage;
}

/** Words for a failed threshold: `accuracy 1.20 pts worse (limit 0.50 pts)`, `loss 56.5% worse (limit 10%)`. */
function thresholdFailureWords(row: MetricRow): string {
  const t = row.threshold;
  if (!row.head) return `${row.name} missing from head's metrics (it has a threshold)`;
  if (t?.exceededLimit === 'percent') {
    return `${row.name} ${formatNumber(t.worsePct ?? 0, 3)}% worse (limit ${formatNumber(t.percent ?? 0)}%)`;
  }
  const worse = formatChange(t?.worseBy ?? 0, row.ratio).replace(/^\+/, '');
  return `${row.name} ${worse} worse (limit ${formatChange(t?.absolute ?? 0, row.ratio).replace(/^\+/, '')})`;
}

/**
 * The check's conclusion:
 * - the head failed → `failure` (the PR's code did not run to the end);
 * - else the base failed → `neutral`: the PR is not blamed for its base, and there is nothing to compare;
 * - else a threshold of the base config exceeded beyond noise, or a gated metric missing on head → `failure`;
 * - else at least one threshold checked → `success`;
 * - else (no thresholds) → `neutral`, the report is informative.
 */
export function decideVerdict(
  head: SideOutcome,
  base: SideOutcome,
  rows: readonly MetricRow[],
  config: Pick<RepoConfig, 'metrics'>,
): Verdict {
  const unchecked = rows
    .filter((r) => r.threshold?.unchecked)
    .map((r) => ({ name: r.name, reason: r.threshold?.unchecked as string }));
  for (const name of thresholdsWithoutMetrics(rows, config)) {
    unchecked.push({ name, reason: 'neither side reported it' });
  }
  if (!head.ok) {
    const failures = [`head failed at ${stageWords(head.stage)}`];
    if (!base.ok) failures.push(`base failed at ${stageWords(base.stage)} too`);
    return { conclusion: 'failure', words: 'fails', failures, unchecked };
  }
  if (!base.ok) {
    const neutralReason = `base failed at ${stageWords(base.stage)}, so nothing was compared; the PR is not blamed for its base`;
    return {
      conclusion: 'neutral',
      words: `not compared (base failed at ${stageWords(base.stage)})`,
      failures: [],
      neutralReason,
      unchecked: [],
    };
  }
  const failing = rows.filter((r) => r.threshold?.fails);
  if (failing.length > 0) {
    const failures = failing.map(thresholdFailureWords);
    const words =
      failures.length === 1
        ? `fails: ${failures[0]}`
        : `fails: ${failing.length} metrics over their limits (${failing.map((r) => r.name).join(', ')})`;
    return { conclusion: 'failure', words, failures, unchecked };
  }
  const checked = rows.filter((r) => r.threshold && !r.threshold.unchecked);
  if (checked.length > 0) return { conclusion: 'success', words: 'passes', failures: [], unchecked };
  const neutralReason =
    unchecked.length > 0
      ? 'no threshold could be checked'
      : 'no thresholds are set in the base branch’s `.evalbot.yml`';
  const words =
    unchecked.length > 0
      ? 'informative only (no threshold could be checked)'
      : 'informative only (no thresholds)';
  return { conclusion: 'neutral', words, failures: [], neutralReason, unchecked };
}
