import type { SideOutcome } from '@evalbot/jobs';
import { formatNumber } from '@evalbot/report';

const MAX_SHOWN_METRICS = 3;

/** One line for a finished side's progress task: its first metrics, or where and why it failed. */
export function describeOutcome(outcome: SideOutcome): string {
  if (!outcome.ok) return `${outcome.stage}: ${outcome.message.split('\n')[0]}`;
  const metrics = Object.entries(outcome.runs[0]?.metrics ?? {});
  const shown = metrics.slice(0, MAX_SHOWN_METRICS).map(([name, value]) => `${name} ${formatNumber(value)}`);
  if (metrics.length > MAX_SHOWN_METRICS) shown.push(`+${metrics.length - MAX_SHOWN_METRICS} more`);
  return shown.join(', ') || 'no metrics';
}
