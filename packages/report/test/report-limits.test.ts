import { describe, expect, it } from 'vitest';
import {
  type Budget,
  budgets,
  buildReport,
  CHECK_SUMMARY_LIMIT,
  CHECK_TEXT_LIMIT,
  COMMENT_LIMIT,
  type HistoryEntry,
  parseReportHistory,
} from '../src/index.ts';
import { BASE_SHA, config, failed, HEAD_SHA, input, run, succeeded } from './fixtures.ts';

function hugeLog(lines: number, width = 200): string {
  return Array.from({ length: lines }, (_, i) => `line ${i} ${'y'.repeat(width)}`).join('\n');
}

function metrics(count: number, offset = 0): Record<string, number> {
  return Object.fromEntries(
    Array.from({ length: count }, (_, i) => [
      `metric_${String(i).padStart(4, '0')}_accuracy`,
      0.5 + ((i + offset) % 100) / 1000,
    ]),
  );
}

function history(count: number): HistoryEntry[] {
  return Array.from({ length: count }, (_, i) => ({
    headSha: `${String(i).padStart(7, '0')}${'b'.repeat(33)}`,
    baseSha: BASE_SHA,
    at: new Date(Date.UTC(2025, 4, 1, i)).toISOString(),
    conclusion: 'failure' as const,
    summary: 'x'.repeat(300),
    metrics: Object.fromEntries(Array.from({ length: 4 }, (_, k) => [`m${k}${'n'.repeat(70)}`, k])),
    ratios: [],
  }));
}

function epochs(n: number): number[] {
  return Array.from({ length: n }, (_, i) => 1 / (i + 1));
}

describe('GitHub size limits', () => {
  it('keeps every table row and trims the logs when two huge logs would overflow the comment', () => {
    const head = failed(HEAD_SHA, 'run', 'crashed', hugeLog(50_000));
    const base = succeeded(BASE_SHA, [run(metrics(150))]);
    const withBaseFailedToo = failed(BASE_SHA, 'run', 'crashed too', hugeLog(50_000));
    for (const other of [base, withBaseFailedToo]) {
      const report = buildReport(input(head, other, { previousRuns: history(10) }));
      expect(report.markdown.length).toBeLessThanOrEqual(COMMENT_LIMIT);
      expect(report.checkRun.summary.length).toBeLessThanOrEqual(CHECK_SUMMARY_LIMIT);
      expect(report.checkRun.text.length).toBeLessThanOrEqual(CHECK_TEXT_LIMIT);
      expect(report.markdown).toContain('line 49999 ');
    }
    const report = buildReport(input(head, base, { previousRuns: history(10) }));
    expect(report.markdown.match(/^\| metric\\_\d+\\_accuracy/gm)).toHaveLength(150);
  });

  it('cuts in order: logs, then history, then charts, then the footer, then config problems, and table rows last', () => {
    const order = [...budgets(8)];
    const firstIndex = (test: (b: Budget) => boolean) => order.findIndex(test);
    expect(order[0]).toEqual({
      logChars: 12_000,
      historyRows: 10,
      charts: true,
      context: true,
      problemChars: Infinity,
      maxRows: Infinity,
    });
    const logsGone = firstIndex((b) => b.logChars === 0);
    const historyGone = firstIndex((b) => b.historyRows === 0);
    const chartsGone = firstIndex((b) => !b.charts);
    const footerGone = firstIndex((b) => !b.context);
    const problemsCut = firstIndex((b) => b.problemChars < Infinity);
    const rowsCut = firstIndex((b) => b.maxRows < 8);
    expect(firstIndex((b) => b.historyRows < 10)).toBeGreaterThan(logsGone);
    expect(firstIndex((b) => !b.charts)).toBeGreaterThan(historyGone);
    expect(footerGone).toBeGreaterThan(chartsGone);
    expect(problemsCut).toBeGreaterThan(footerGone);
    expect(rowsCut).toBeGreaterThan(problemsCut);
    // Each budget only ever takes away.
    for (let i = 1; i < order.length; i++) {
      const [a, b] = [order[i - 1] as Budget, order[i] as Budget];
      expect(
        b.logChars <= a.logChars &&
          b.historyRows <= a.historyRows &&
          b.problemChars <= a.problemChars &&
          b.maxRows <= a.maxRows,
      ).toBe(true);
    }
  });

  it('drops logs, history and charts before any table row when all of them do not fit', () => {
    const head = failed(HEAD_SHA, 'run', 'crashed', hugeLog(100_000));
    const long = (i: number) => `metric_${String(i).padStart(4, '0')}_accuracy_${'q'.repeat(60)}`;
    const baseMetrics = Object.fromEntries(Array.from({ length: 420 }, (_, i) => [long(i), 0.5]));
    const series = Object.fromEntries(Array.from({ length: 8 }, (_, i) => [`series_${i}`, epochs(500)]));
    const report = buildReport(
      input(head, succeeded(BASE_SHA, [run(baseMetrics, 42, series)]), { previousRuns: history(10) }),
    );
    expect(report.markdown.length).toBeLessThanOrEqual(COMMENT_LIMIT);
    expect(report.commentBudget).toMatchObject({
      logChars: 0,
      historyRows: 0,
      charts: false,
      maxRows: Infinity,
    });
    expect(report.markdown.match(/^\| metric\\_\d+\\_accuracy/gm)).toHaveLength(420);
    expect(report.markdown).toContain(
      '_The log was left out to keep this comment under GitHub’s size limit._',
    );
    expect(report.markdown).not.toContain('Earlier runs on this PR');
    expect(report.markdown).not.toContain('```mermaid');
    // The embedded history survives any trimming, so the next comment still has it.
    expect(parseReportHistory(report.markdown)).toHaveLength(10);
  });

  it('cuts table rows only as a last resort, keeping failing metrics and saying how many are hidden', () => {
    const headMetrics = metrics(3000, 7);
    headMetrics.metric_2999_accuracy = 0.01;
    const baseConfig = config('metrics:\n  metric_2999_accuracy: { fail_if_worse_by: 0.01 }\n');
    const report = buildReport(
      input(succeeded(HEAD_SHA, [run(headMetrics)]), succeeded(BASE_SHA, [run(metrics(3000))]), {
        baseConfig,
      }),
    );
    expect(report.markdown.length).toBeLessThanOrEqual(COMMENT_LIMIT);
    expect(report.checkRun.summary.length).toBeLessThanOrEqual(CHECK_SUMMARY_LIMIT);
    expect(report.verdict.conclusion).toBe('failure');
    expect(report.markdown).toMatch(
      /- \d+ more metrics are not shown: the report would exceed GitHub’s size limit/,
    );
    expect(report.markdown).toContain('| metric\\_2999\\_accuracy ↑ |');
    expect(report.markdown).toMatch(/^\| Metric \|/m);
  });

  it('cuts an enormous log line and reads only the end of an enormous log', () => {
    const base = succeeded(BASE_SHA, [run({ accuracy: 0.9 })]);
    const longLine = buildReport(
      input(failed(HEAD_SHA, 'run', 'x'.repeat(100_000), `${'z'.repeat(100_000)}\nend`), base),
    );
    expect(longLine.markdown.length).toBeLessThanOrEqual(COMMENT_LIMIT);
    expect(longLine.markdown).toContain(`${'z'.repeat(400)} …[line cut]\nend\n`);
    const enormous = buildReport(input(failed(HEAD_SHA, 'run', 'x', `${'z'.repeat(5_000_000)}\nend`), base));
    expect(enormous.markdown).toContain('…[earlier output cut]\nend\n');
  });
});
