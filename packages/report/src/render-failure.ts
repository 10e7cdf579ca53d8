import type { SideFailure } from '@evalbot/jobs';
import { redactSecrets } from '@evalbot/logger';
import { sliceWhole } from '@evalbot/repo-config/slice-whole';
import { formatDuration } from './format-number.ts';
import {
  cleanLog,
  codeBlock,
  escapeHtml,
  escapeMarkdown,
  escapeWithCode,
  truncate,
} from './markdown-text.ts';

/** `.evalbot.yml` problems as `RepoConfigError` carries them (also after a JSON round trip through Redis). */
export interface ConfigErrorLike {
  file: string;
  problems: readonly { key: string; problem: string; fix: string }[];
}

/** No single log line longer than this: minified output or a progress bar must not eat the budget. */
const MAX_LOG_LINE = 400;

/** Only this much of the end of a log is read: more could never fit in a comment. */
const MAX_LOG_READ = 256 * 1024;

/**
 * A log ready to show: only its end, secrets redacted, terminal control removed, long lines cut.
 * Done once per side; budgets then take a tail of the lines.
 */
export function prepareLog(log: string, secrets: readonly string[] = []): string[] {
  let text = log;
  let cutAtStart = false;
  if (text.length > MAX_LOG_READ) {
    // Drop the partial first line: it could hold the end of a secret that redaction would miss.
    text = text.slice(text.length - MAX_LOG_READ);
    text = text.slice(text.indexOf('\n') + 1);
    cutAtStart = true;
  }
  const lines = cleanLog(redactSecrets(text, secrets))
    .replace(/\n+$/, '')
    .split('\n')
    .map((line) => (line.length > MAX_LOG_LINE ? `${sliceWhole(line, MAX_LOG_LINE)} …[line cut]` : line));
  return cutAtStart ? ['…[earlier output cut]', ...lines] : lines;
}

/** The last of `lines` that fit in `maxChars`, and whether lines were left out. */
export function logTail(
  lines: readonly string[],
  maxChars: number,
): { text: string; lines: number; cut: boolean } {
  const kept: string[] = [];
  let size = 0;
  for (let i = lines.length - 1; i >= 0; i--) {
    const line = lines[i] as string;
    if (size + line.length + 1 > maxChars) break;
    kept.push(line);
    size += line.length + 1;
  }
  kept.reverse();
  return { text: kept.join('\n'), lines: kept.length, cut: kept.length < lines.length };
}

/** Problems shown in a config's table at most; the rest are counted. */
const MAX_PROBLEMS = 50;

/**
 * `.evalbot.yml` problems as a Markdown table: each key, what is wrong with it and how to fix it.
 * Used in the PR comment when a side's config is invalid, and by the CLI. At most 50 problems, in
 * at most `maxChars` characters of rows (a report's budget); the others are counted in a last row.
 */
export function renderConfigError(
  error: ConfigErrorLike,
  side?: 'head' | 'base',
  maxChars = Number.POSITIVE_INFINITY,
): string {
  const where = side ? ` in the ${side} commit` : '';
  const lines = [
    `**\`${escapeHtml(error.file).replace(/`/g, '')}\` is invalid${where}.** Fix ${error.problems.length === 1 ? 'this key' : 'these keys'} and push again:`,
    '',
    '| Key | Problem | Fix |',
    '|:--|:--|:--|',
  ];
  let shown = 0;
  let size = 0;
  for (const p of error.problems.slice(0, MAX_PROBLEMS)) {
    const row = `| <code>${escapeMarkdown(truncate(p.key, 120))}</code> | ${escapeWithCode(truncate(p.problem, 300), 'markdown')} | ${escapeWithCode(truncate(p.fix, 300), 'markdown')} |`;
    if (size + row.length + 1 > maxChars) break;
    lines.push(row);
    size += row.length + 1;
    shown++;
  }
  if (shown < error.problems.length) lines.push(`| … | ${error.problems.length - shown} more problems | |`);
  return lines.join('\n');
}

export interface FailureInput {
  side: 'head' | 'base';
  outcome: SideFailure;
  /** The side's short SHA, as HTML. */
  shaHtml: string;
  /** Log budget in characters; 0 leaves the log out. */
  logChars: number;
  /** Characters of config problems' rows ({@link renderConfigError}); `Infinity` for all. */
  problemChars?: number;
  /** `outcome.logTail` after {@link prepareLog}. */
  logLines: readonly string[];
  secrets?: readonly string[];
  configError?: ConfigErrorLike;
}

/** A failed side: stage and message in a collapsed `<details>`, with the config problems and the log tail. */
export function renderFailure(input: FailureInput): string {
  const { outcome, side } = input;
  const stage = outcome.stage === 'config' ? 'config (.evalbot.yml)' : outcome.stage;
  const message = redactSecrets(outcome.message, input.secrets ?? []);
  const title = side === 'head' ? 'Head' : 'Base';
  const elapsed = Object.values(outcome.durations).reduce((a, b) => a + (b ?? 0), 0);
  const parts = [
    '<details>',
    `<summary>❌ <b>${title}</b> ${input.shaHtml} failed at <b>${escapeHtml(stage)}</b>: ${escapeWithCode(truncate(cleanLog(message).replace(/\s+/g, ' '), 160), 'html')}</summary>`,
    '',
    `**Stage:** ${escapeMarkdown(stage)} · **time until the failure:** ${formatDuration(elapsed)}${side === 'base' ? ' · this is the base branch’s failure, not the PR’s' : ''}`,
    '',
    `**Message:** ${escapeWithCode(truncate(cleanLog(message), 2000), 'markdown')}`,
  ];
  if (outcome.runs.length > 0) {
    parts.push(
      '',
      `${outcome.runs.length} run${outcome.runs.length === 1 ? '' : 's'} finished before the failure; ${outcome.runs.length === 1 ? 'its' : 'their'} metrics are not compared.`,
    );
  }
  if (input.configError) parts.push('', renderConfigError(input.configError, side, input.problemChars));
  if (input.logChars <= 0) {
    parts.push('', '_The log was left out to keep this comment under GitHub’s size limit._');
  } else if (outcome.logTail.trim() === '') {
    if (!input.configError) parts.push('', '_The side wrote no output._');
  } else {
    const tail = logTail(input.logLines, input.logChars);
    const caption = tail.cut ? `Last ${tail.lines} lines of output` : 'Output';
    parts.push('', `${caption} (secrets redacted):`, '', codeBlock(tail.text));
  }
  parts.push('', '</details>');
  return parts.join('\n');
}
