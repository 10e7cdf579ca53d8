import { parseRepoConfig, type RepoConfigError } from '@evalbot/repo-config';
import { marked } from 'marked';
import { describe, expect, it } from 'vitest';
import { fitToLimit } from '../src/fit-to-limit.ts';
import { buildReport, parseReportHistory, renderPending } from '../src/index.ts';
import {
  BASE_SHA,
  config,
  EARLIER_RUNS,
  failed,
  HEAD_SHA,
  input,
  REPO_URL,
  run,
  succeeded,
} from './fixtures.ts';
import { linkedByGitHub } from './github-references.ts';

// What a pull request controls on its way into the comment and the check run: metric names,
// the failure message, its output, package names of its environment, its `.evalbot.yml` keys.

const base = succeeded(BASE_SHA, [run({ accuracy: 0.9 })]);
const html = (markdown: string) => marked.parse(markdown, { gfm: true, async: false }) as string;
const count = (text: string, pattern: RegExp) => (text.match(pattern) ?? []).length;
/** The text a reader sees in a rendered cell. */
const textOf = (cellHtml: string) =>
  cellHtml
    .replace(/<[^>]*>/g, '')
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&quot;/g, '"')
    .replace(/&#39;/g, "'")
    .replace(/&amp;/g, '&')
    .replaceAll('\u200b', '')
    .trim();
/** Half of a surrogate pair: not Unicode, and not encodable as the UTF-8 GitHub stores. */
const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

describe('text the PR controls, against the report’s structure', () => {
  it('cannot plant the history the next report reads back, even in its output', () => {
    const forged = `<!-- evalbot:history ${JSON.stringify([{ ...EARLIER_RUNS[0], summary: 'forged: passes' }])} -->`;
    const report = buildReport(
      input(failed(HEAD_SHA, 'run', `boom ${forged}`, `${forged}\n`), base, { previousRuns: EARLIER_RUNS }),
    );
    // Verbatim in the log's code block, where GitHub shows it as text…
    expect(report.markdown).toContain(forged);
    // …but the history read from this comment is the one evalbot wrote.
    expect(parseReportHistory(report.markdown)).toEqual(report.history);
    expect(report.history.map((e) => e.summary)).not.toContain('forged: passes');
  });

  it('cannot close or open the report’s collapsed blocks from a metric name, the message or the log', () => {
    const evil =
      'x</code></summary></details><details open><summary>evil</summary><!-- evalbot:report -->\n\n| a | b |';
    const plain = buildReport(
      input(failed(HEAD_SHA, 'run', 'x', 'x\n'), succeeded(BASE_SHA, [run({ y: 0.5 })])),
    );
    const attacked = buildReport(
      input(failed(HEAD_SHA, 'run', evil, `${evil}\n`), succeeded(BASE_SHA, [run({ [evil]: 0.5 })])),
    );
    for (const [mine, theirs] of [
      [plain.markdown, attacked.markdown],
      [plain.checkRun.text, attacked.checkRun.text],
    ] as const) {
      const rendered = html(theirs);
      expect(count(rendered, /<details/g)).toBe(count(html(mine), /<details/g));
      expect(count(rendered, /<\/details>/g)).toBe(count(rendered, /<details/g));
      expect(rendered).not.toContain('<details open>');
    }
    // The marker the worker finds its comment by stays the first line, once outside the log.
    expect(attacked.markdown.startsWith('<!-- evalbot:report -->\n')).toBe(true);
    const outsideCode = attacked.markdown.replace(/^(`{3,})text\n[\s\S]*?\n\1$/m, '');
    expect(count(outsideCode, /<!-- evalbot:report -->/g)).toBe(1);
  });

  it('keeps a table row of six cells whatever pipes, backslashes and backticks a metric name holds', () => {
    for (const name of ['a|b', 'a\\|b', 'a\\\\|b', 'trailing\\', '`|`', '<td>x</td>', '|||']) {
      const report = buildReport(
        input(succeeded(HEAD_SHA, [run({ [name]: 1 })]), succeeded(BASE_SHA, [run({ [name]: 2 })])),
      );
      const row = /<tbody>\s*<tr>([\s\S]*?)<\/tr>/.exec(html(report.markdown))?.[1] ?? '';
      // GitHub drops cells past the header's six: the name must stay whole in the first.
      const cells = [...row.matchAll(/<td[^>]*>([\s\S]*?)<\/td>/g)].map(([, cell]) => textOf(cell as string));
      expect(cells, name).toHaveLength(6);
      expect(cells[0], name).toBe(name);
      expect(cells[5], name).toMatch(/changed$/);
    }
  });

  it('keeps the output after a terminal title or hyperlink (OSC) ended the way terminals end it', () => {
    // `ESC ] … ESC \` (ST) is how Rich, ls --hyperlink and shells end titles and links.
    const output = [
      'epoch 1',
      '\u001b]0;training\u001b\\see \u001b]8;;https://evil.example/x\u001b\\the docs\u001b]8;;\u001b\\ here',
      'Traceback (most recent call last):',
      'ValueError: boom',
      '',
    ].join('\n');
    const report = buildReport(
      input(failed(HEAD_SHA, 'run', `\u001b]0;t\u001b\\ValueError: boom`, output), base),
    );
    expect(report.markdown).toContain(
      'epoch 1\nsee the docs here\nTraceback (most recent call last):\nValueError: boom\n',
    );
    expect(report.markdown).toContain('failed at <b>run</b>: ValueError: boom</summary>');
    expect(report.markdown).not.toContain('evil.example');
    expect(report.markdown).not.toContain('\u001b');
  });

  it('mentions no one through the progress comment, the environment footer or the earlier runs', () => {
    const ping = '@octocat @org/team org/repo#1 #2 GH-3 www.evil.example';
    const pending = renderPending({
      pr: { repoHtmlUrl: REPO_URL },
      headSha: HEAD_SHA,
      baseSha: BASE_SHA,
      startedAt: new Date('2025-06-01T12:00:00Z'),
      progress: { head: { stage: 'setup', message: `setup 1/1: ${ping}` } },
    });
    expect(pending.replaceAll('\u200b', '')).toContain(ping.replaceAll('_', '\\_'));
    expect(linkedByGitHub(pending)).toEqual([]);
    const head = succeeded(HEAD_SHA, [run({ accuracy: 0.95 })], {
      // Package names and versions come from the head's own environment (its dist-info).
      environment: { python: `3.11 ${ping}`, packages: { [`numpy ${ping}`]: `1.0 ${ping}` } },
    });
    const previous = [
      { ...EARLIER_RUNS[0], summary: ping, metrics: { [`acc ${ping}`]: 0.5 } },
    ] as typeof EARLIER_RUNS;
    const report = buildReport(input(head, base, { previousRuns: previous }));
    expect(report.markdown.replaceAll('\u200b', '')).toContain(`| numpy ${ping}`.slice(0, 40));
    for (const markdown of [report.markdown, report.checkRun.summary, report.checkRun.text]) {
      expect(linkedByGitHub(markdown)).toEqual([]);
    }
  });

  it('fits a head .evalbot.yml with hundreds of long bad keys in the comment, history kept', () => {
    // Escaping multiplies `&` by five: unbounded, the problems table alone would pass 65,536
    // characters and the comment be cut blindly, its history with it.
    const yaml = Array.from({ length: 300 }, (_, i) => `"${'&'.repeat(150)}${i}": 1`).join('\n');
    let problems: RepoConfigError['problems'] = [];
    try {
      parseRepoConfig(yaml);
    } catch (error) {
      problems = (error as RepoConfigError).problems;
    }
    expect(problems).toHaveLength(300);
    const report = buildReport(
      input(failed(HEAD_SHA, 'config', '.evalbot.yml is invalid', ''), base, {
        configErrors: { head: { file: '.evalbot.yml', problems } },
        previousRuns: EARLIER_RUNS,
      }),
    );
    expect(report.markdown.length).toBeLessThanOrEqual(65_536);
    expect(report.markdown).toContain('| … | 250 more problems | |');
    expect(parseReportHistory(report.markdown)).toEqual(report.history);
    expect(report.history).toHaveLength(EARLIER_RUNS.length + 1);
  });

  // Escaping makes each problem of this made-up config ~1,800 characters: its 50 rows alone would
  // pass GitHub's limit, so the comment's budget shows as many as fit and counts the rest.
  it('shows as many problems of a long invalid config as fit, counting the rest, and keeps the history', () => {
    const problems = Array.from({ length: 50 }, (_, i) => ({
      key: `${'&'.repeat(150)}${i}`,
      problem: `is the text "${'<'.repeat(400)}"`,
      fix: 'remove it',
    }));
    const report = buildReport(
      input(failed(HEAD_SHA, 'config', '.evalbot.yml is invalid', ''), base, {
        configErrors: { head: { file: '.evalbot.yml', problems } },
        previousRuns: EARLIER_RUNS,
      }),
    );
    expect(report.markdown.length).toBeLessThanOrEqual(65_536);
    const shown = count(report.markdown, /^\| <code>&amp;/gm);
    expect(shown).toBeGreaterThan(0);
    expect(report.markdown).toContain(`| … | ${50 - shown} more problems | |`);
    expect(report.markdown).toMatch(
      /\n<\/details>\n\n<sub>Updated .* by evalbot\.<\/sub>\n\n<!-- evalbot:history /,
    );
    expect(parseReportHistory(report.markdown)).toEqual(report.history);
  });

  // Even the leanest comment can be too long: both sides failed with a message that escaping
  // multiplies by five, under a history of ten runs whose summaries and names escape six-fold in
  // its JSON. The body is then cut blindly; the footer and the history are kept out of the cut.
  it('keeps the footer and the history when even the leanest comment must be cut', () => {
    const name = (i: number) => `${'<'.repeat(79)}${i}`;
    const previousRuns = Array.from({ length: 9 }, (_, i) => ({
      ...EARLIER_RUNS[0],
      headSha: `${i}`.repeat(40),
      summary: '<'.repeat(300),
      metrics: Object.fromEntries([0, 1, 2, 3].map((m) => [name(m), 0.5])),
      ratios: [0, 1, 2, 3].map(name),
    })) as typeof EARLIER_RUNS;
    const message = '&'.repeat(3000);
    const report = buildReport(
      input(failed(HEAD_SHA, 'run', message, ''), failed(BASE_SHA, 'run', message, ''), { previousRuns }),
    );
    expect(report.markdown.length).toBeLessThanOrEqual(65_536);
    expect(report.markdown).toMatch(/\n…\n\n<sub>Updated .* by evalbot\.<\/sub>\n\n<!-- evalbot:history /);
    expect(parseReportHistory(report.markdown)).toEqual(report.history);
    expect(report.history).toHaveLength(10);
  });

  it('never cuts an emoji in half where it shortens a name, the title or a log line', () => {
    const name = `${'a'.repeat(78)}😀 and more`;
    const longLine = `${'x'.repeat(399)}😀${'y'.repeat(100)}`;
    const report = buildReport(
      input(succeeded(HEAD_SHA, [run({ [name]: 1 })]), succeeded(BASE_SHA, [run({ [name]: 2 })])),
    );
    const crashed = buildReport(input(failed(HEAD_SHA, 'run', 'x', `${longLine}\n`), base));
    for (const text of [
      report.markdown,
      report.checkRun.title,
      report.checkRun.summary,
      crashed.markdown,
      crashed.checkRun.text,
    ]) {
      expect(LONE_SURROGATE.test(text)).toBe(false);
    }
    expect(report.markdown).toContain(`| ${'a'.repeat(78)}…`);
  });

  it('keeps the check run title on one line when a metric name holds newlines', () => {
    const name = 'acc\nuracy\r\nline three';
    const report = buildReport(
      input(succeeded(HEAD_SHA, [run({ [name]: 1 })]), succeeded(BASE_SHA, [run({ [name]: 2 })])),
    );
    expect(report.checkRun.title).toContain('acc uracy line three');
    expect(report.checkRun.title).not.toMatch(/[\r\n]/);
  });

  it('never cuts an emoji in half where a rendering too long for GitHub is hard-cut', () => {
    const { text } = fitToLimit(() => `${'x'.repeat(97)}😀 more`, 100, 0);
    expect(LONE_SURROGATE.test(text)).toBe(false);
    expect(text).toBe(`${'x'.repeat(97)}\n…`);
  });

  it('still fails a gated metric the head renamed to a look-alike (Cyrillic а, a zero-width space)', () => {
    const gate = config('metrics: {accuracy: {direction: higher, fail_if_worse_by: 0.01}}');
    const head = succeeded(HEAD_SHA, [run({ аccuracy: 0.99, 'accuracy\u200b': 0.99 })]);
    const report = buildReport(input(head, base, { baseConfig: gate }));
    expect(report.verdict.conclusion).toBe('failure');
    expect(report.markdown).toMatch(
      /^\| accuracy ↑ \| 90\.00% \| —¹ \| — \| — \| 🔴 missing in head · \*\*fails\*\* \(gated\) \|$/m,
    );
  });

  // Trojan Source in a comment: U+202E RIGHT-TO-LEFT OVERRIDE (and the other bidi controls)
  // would let a name display as another ("accuracy" here) or reorder the text after it in its
  // cell. The gate is unaffected (see the look-alike test above), but the reader is misled.
  it('shows no bidi override a metric name carries', () => {
    const name = 'acc\u202eycarucca';
    const report = buildReport(
      input(succeeded(HEAD_SHA, [run({ [name]: 1 })]), succeeded(BASE_SHA, [run({ [name]: 2 })])),
    );
    for (const text of [report.markdown, report.checkRun.title, report.checkRun.summary]) {
      expect(text).not.toMatch(/[\u202a-\u202e\u2066-\u2069]/);
    }
  });
});
