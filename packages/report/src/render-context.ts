import { type SideOutcome, type Stage, stageSchema } from '@evalbot/jobs';
import { formatDuration, MISSING } from './format-number.ts';
import { commitLink, escapeMarkdown, truncate } from './markdown-text.ts';

/** Packages named in the footer when a side reports them; others are summarised by count. */
const KEY_PACKAGES = ['tensorflow', 'tensorflow-cpu', 'keras', 'torch', 'jax', 'numpy', 'scikit-learn'];
const MAX_PACKAGES = 8;

function stageRow(stage: Stage, head: SideOutcome, base: SideOutcome): string | undefined {
  const h = head.durations[stage];
  const b = base.durations[stage];
  if (h === undefined && b === undefined) return undefined;
  const cell = (v: number | undefined) => (v === undefined ? MISSING : formatDuration(v));
  return `| ${stage} | ${cell(b)} | ${cell(h)} |`;
}

function total(outcome: SideOutcome): number {
  return Object.values(outcome.durations).reduce((a, b) => a + (b ?? 0), 0);
}

function resultCell(outcome: SideOutcome): string {
  if (!outcome.ok) return `failed at ${outcome.stage}`;
  if (!outcome.resultReused) return 'trained for this run';
  const from = outcome.resultReusedFrom;
  // Another commit with the same content (a rebase, a docs-only push): say which one.
  if (from && from !== outcome.sha)
    return `♻️ same content as \`${from.slice(0, 7)}\`, result reused (not trained again)`;
  return '♻️ reused from cache (not trained again)';
}

function environmentCell(outcome: SideOutcome): string {
  if (outcome.environmentReused) return 'reused from cache';
  if (outcome.environmentDerivedFrom) return 'derived from a cached one (only the difference installed)';
  return 'built';
}

function seedsCell(outcome: SideOutcome): string {
  if (outcome.runs.length === 0) return MISSING;
  return outcome.runs.map((r) => String(r.seed)).join(', ');
}

function packageNames(head: SideOutcome, base: SideOutcome): string[] {
  const all = new Set([...Object.keys(head.environment.packages), ...Object.keys(base.environment.packages)]);
  const key = KEY_PACKAGES.filter((p) => all.has(p));
  const rest = [...all].filter((p) => !KEY_PACKAGES.includes(p)).sort();
  return [...key, ...rest].slice(0, MAX_PACKAGES);
}

export interface ContextInput {
  repoHtmlUrl: string;
  head: SideOutcome;
  base: SideOutcome;
}

/**
 * The collapsed footer: commits, what was reused (a result of the same content, a cached or a
 * partly cached environment), Python and key
 * package versions, seeds and each side's time per stage.
 */
export function renderContext({ repoHtmlUrl, head, base }: ContextInput): string {
  const text = (v: string | undefined) => (v ? escapeMarkdown(truncate(v, 60)) : MISSING);
  const rows = [
    '| | Base | Head |',
    '|:--|:--|:--|',
    `| Commit | ${commitLink(repoHtmlUrl, base.sha)} | ${commitLink(repoHtmlUrl, head.sha)} |`,
    `| Result | ${resultCell(base)} | ${resultCell(head)} |`,
    `| Environment | ${environmentCell(base)} | ${environmentCell(head)} |`,
    `| Python | ${text(base.environment.python)} | ${text(head.environment.python)} |`,
  ];
  for (const name of packageNames(head, base)) {
    rows.push(
      `| ${text(name)} | ${text(base.environment.packages[name])} | ${text(head.environment.packages[name])} |`,
    );
  }
  rows.push(
    `| Seed${head.runs.length > 1 || base.runs.length > 1 ? 's' : ''} | ${seedsCell(base)} | ${seedsCell(head)} |`,
  );
  for (const stage of stageSchema.options) {
    const row = stageRow(stage, head, base);
    if (row) rows.push(row);
  }
  rows.push(`| **total** | **${formatDuration(total(base))}** | **${formatDuration(total(head))}** |`);
  return [
    '<details>',
    '<summary>Run details: commits, environment, seeds, time per stage</summary>',
    '',
    ...rows,
    '',
    '</details>',
  ].join('\n');
}
