import type { SideOutcome } from '@evalbot/jobs';
import type { RepoConfig } from '@evalbot/repo-config';
import { formatNumber } from './format-number.ts';
import { escapeMarkdown } from './markdown-text.ts';
import { stageWords, type Verdict } from './verdict.ts';

/** The heading's mark for a conclusion. */
export function conclusionMark(verdict: Verdict, base: SideOutcome): string {
  if (verdict.conclusion === 'success') return '✅';
  if (verdict.conclusion === 'failure') return '❌';
  return base.ok ? 'ℹ️' : '⚠️';
}

/** What the conclusion means for the PR, in a sentence or a short list. */
export function renderVerdictDetail(verdict: Verdict, head: SideOutcome, base: SideOutcome): string {
  if (!head.ok) {
    const baseToo = base.ok ? '' : ` The base failed too, at **${stageWords(base.stage)}**.`;
    return `**Fails the check:** the head did not finish — it failed at **${stageWords(head.stage)}** (details below).${baseToo}`;
  }
  if (!base.ok) {
    return `**Neutral:** the base failed at **${stageWords(base.stage)}**, so nothing was compared. That is not this PR’s fault, so the check is neutral rather than failed. The head’s metrics are shown alone.`;
  }
  if (verdict.conclusion === 'failure') {
    if (verdict.failures.length === 1) {
      return `**Fails the check:** ${escapeMarkdown(verdict.failures[0] as string)}. Limits come from the base branch’s \`.evalbot.yml\`.`;
    }
    const items = verdict.failures.map((f) => `- ${escapeMarkdown(f)}`);
    return ['**Fails the check** (limits from the base branch’s `.evalbot.yml`):', '', ...items].join('\n');
  }
  if (verdict.conclusion === 'success') {
    return '**Passes:** every threshold in the base branch’s `.evalbot.yml` holds.';
  }
  return `**Informative only:** ${verdict.neutralReason ?? 'no thresholds are set'}, so the check is neutral. To gate merges, set e.g. \`metrics: {accuracy: {fail_if_worse_by: 0.005}}\` in \`.evalbot.yml\` on the base branch.`;
}

/** Whether and how noise was measured. Empty when no side ran. */
export function renderNoiseNote(
  head: SideOutcome,
  base: SideOutcome,
  config: Pick<RepoConfig, 'significance'>,
): string {
  if (!head.ok || !base.ok) return '';
  const runs = Math.min(head.runs.length, base.runs.length);
  if (runs < 2) {
    return '> ℹ️ **Noise not measured:** each side ran once, so part of any change may be chance (another seed moves the metrics too). Add `repeats: 3` to the base branch’s `.evalbot.yml` to run each side three times with different seeds and test each change with Welch’s t-test.';
  }
  const alpha = formatNumber(config.significance);
  return `> 📊 **Noise measured:** ${head.runs.length} runs of the head and ${base.runs.length} of the base, each with its own seed; values are mean ± standard deviation. A change is *within noise* when Welch’s t-test does not tell the sides apart (p ≥ ${alpha}); a change within noise never fails the check.`;
}
