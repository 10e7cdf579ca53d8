import { describe, expect, it } from 'vitest';
import {
  buildReport,
  type HistoryEntry,
  MAX_HISTORY,
  parseReportHistory,
  renderPending,
  serializeReportHistory,
} from '../src/index.ts';
import { BASE_SHA, EARLIER_RUNS, HEAD_SHA, input, NOW, REPO_URL, run, succeeded } from './fixtures.ts';

function entry(i: number): HistoryEntry {
  return {
    headSha: `${i.toString(16).padStart(7, '0')}${'a'.repeat(33)}`,
    baseSha: BASE_SHA,
    at: new Date(Date.UTC(2025, 4, 1, i)).toISOString(),
    conclusion: 'success',
    summary: `run ${i}`,
    metrics: { accuracy: 0.9 + i / 1000 },
    ratios: ['accuracy'],
  };
}

describe('history of earlier runs in the comment', () => {
  it('reads back what it wrote', () => {
    expect(parseReportHistory(serializeReportHistory(EARLIER_RUNS))).toEqual(EARLIER_RUNS);
  });

  it('reads the history of its own previous comment and appends this run', () => {
    const first = buildReport(
      input(succeeded(HEAD_SHA, [run({ accuracy: 0.97 })]), succeeded(BASE_SHA, [run({ accuracy: 0.96 })])),
    );
    const second = buildReport(
      input(
        succeeded('9'.repeat(40), [run({ accuracy: 0.98, loss: 0.1 })]),
        succeeded(BASE_SHA, [run({ accuracy: 0.96 })]),
        {
          previousRuns: parseReportHistory(first.markdown),
          now: new Date(NOW.getTime() + 3_600_000),
        },
      ),
    );
    const history = parseReportHistory(second.markdown);
    expect(history.map((h) => h.headSha)).toEqual([HEAD_SHA, '9'.repeat(40)]);
    expect(history[1]).toMatchObject({
      conclusion: 'neutral',
      metrics: { accuracy: 0.98, loss: 0.1 },
      ratios: ['accuracy'],
    });
    expect(second.markdown).toContain('<summary>Earlier runs on this PR (1)</summary>');
    expect(second.markdown).toContain(
      `| 2025-06-01 12:00 UTC | [\`abc1234\`](${REPO_URL}/commit/${HEAD_SHA}) |`,
    );
  });

  it('lists a comparison once when the same commits are reported again (a retried publish)', () => {
    const make = (previousRuns: HistoryEntry[]) =>
      buildReport(
        input(
          succeeded(HEAD_SHA, [run({ accuracy: 0.97 })]),
          succeeded(BASE_SHA, [run({ accuracy: 0.96 })]),
          { previousRuns },
        ),
      );
    const first = make(EARLIER_RUNS);
    const again = make(parseReportHistory(first.markdown));
    expect(parseReportHistory(again.markdown)).toEqual(parseReportHistory(first.markdown));
    expect(again.markdown).toContain('<summary>Earlier runs on this PR (2)</summary>');
  });

  it('keeps the history through the pending comment', () => {
    const pending = renderPending({
      pr: { repoHtmlUrl: REPO_URL },
      headSha: HEAD_SHA,
      baseSha: BASE_SHA,
      startedAt: NOW,
      previousRuns: EARLIER_RUNS,
    });
    expect(parseReportHistory(pending)).toEqual(EARLIER_RUNS);
  });

  it('keeps only the last ten runs, newest first in the table', () => {
    const many = Array.from({ length: 15 }, (_, i) => entry(i));
    const report = buildReport(
      input(succeeded(HEAD_SHA, [run({ accuracy: 0.97 })]), succeeded(BASE_SHA, [run({ accuracy: 0.96 })]), {
        previousRuns: many,
      }),
    );
    const history = parseReportHistory(report.markdown);
    expect(history).toHaveLength(MAX_HISTORY);
    expect(history.at(-1)?.headSha).toBe(HEAD_SHA);
    expect(report.markdown).toContain('<summary>Earlier runs on this PR (10)</summary>');
    const table = report.markdown.slice(report.markdown.indexOf('Earlier runs'));
    expect(table.indexOf('`000000e`')).toBeLessThan(table.indexOf('`0000005`'));
  });

  it('tolerates a body without history, broken JSON and entries of another shape', () => {
    expect(parseReportHistory(undefined)).toEqual([]);
    expect(parseReportHistory('LGTM')).toEqual([]);
    expect(parseReportHistory('<!-- evalbot:history [{"headSha": -->')).toEqual([]);
    expect(parseReportHistory('<!-- evalbot:history {"a":1} -->')).toEqual([]);
    expect(parseReportHistory('<!-- evalbot:history [{"headSha":"xyz"}, 3] -->')).toEqual([]);
    const mixed = `<!-- evalbot:history ${JSON.stringify([{ nope: true }, EARLIER_RUNS[0]])} -->`;
    expect(parseReportHistory(mixed)).toEqual([EARLIER_RUNS[0]]);
  });

  it('cannot be cut short by a metric name that closes the HTML comment', () => {
    const nasty = { ...entry(1), metrics: { 'x --> <b>y</b>': 1 }, summary: 'x --> y' };
    const text = serializeReportHistory([nasty]);
    expect(text.indexOf('-->')).toBe(text.length - 3);
    expect(parseReportHistory(`before ${text} after`)).toEqual([nasty]);
  });
});
