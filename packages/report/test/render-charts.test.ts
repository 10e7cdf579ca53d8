import { describe, expect, it } from 'vitest';
import { buildReport, renderCharts } from '../src/index.ts';
import { BASE_SHA, HEAD_SHA, input, run, succeeded } from './fixtures.ts';

const labels = { headLabel: '`abc1234`', baseLabel: '`def5678`' };

describe('training-history charts', () => {
  it('draws one xychart-beta per series with the head and base as two lines', () => {
    const head = succeeded(HEAD_SHA, [run({ loss: 0.1 }, 42, { loss: [0.5, 0.3, 0.1] })]);
    const base = succeeded(BASE_SHA, [run({ loss: 0.2 }, 42, { loss: [0.6, 0.4] })]);
    const charts = renderCharts({ head, base, ...labels });
    expect(charts).toContain('Per epoch: 🟦 head `abc1234` · 🟧 base `def5678`.');
    expect(charts).toContain(
      [
        '```mermaid',
        '%%{init: {"themeVariables": {"xyChart": {"plotColorPalette": "#0969da, #bc4c00"}}}}%%',
        'xychart-beta',
        '  title "loss"',
        '  x-axis "epoch" [1, 2, 3]',
        '  y-axis "loss"',
        '  line [0.5, 0.3, 0.1]',
        '  line [0.6, 0.4]',
        '```',
      ].join('\n'),
    );
  });

  it('draws nothing when neither side wrote history', () => {
    const head = succeeded(HEAD_SHA, [run({ loss: 0.1 })]);
    expect(renderCharts({ head, base: head, ...labels })).toBe('');
    expect(buildReport(input(head, succeeded(BASE_SHA, [run({ loss: 0.2 })]))).markdown).not.toContain(
      'mermaid',
    );
  });

  it('says which side wrote no history and colours the only line as its side', () => {
    const head = succeeded(HEAD_SHA, [run({ loss: 0.1 })]);
    const base = succeeded(BASE_SHA, [run({ loss: 0.2 }, 42, { loss: [0.6, 0.4] })]);
    const charts = renderCharts({ head, base, ...labels });
    expect(charts).toContain('head `abc1234` wrote no history · 🟧 base `def5678`');
    expect(charts).toContain('"plotColorPalette": "#bc4c00, #bc4c00"');
    expect(charts.match(/ {2}line /g)).toHaveLength(1);
  });

  it('writes numbers the xychart grammar reads: no exponents', () => {
    const head = succeeded(HEAD_SHA, [run({}, 42, { lr: [1e-7, 2.5e-8, 123456789] })]);
    const charts = renderCharts({ head, base: head, ...labels });
    expect(charts).toContain('line [0.0000001, 0.000000025, 123457000]');
    expect(charts).not.toMatch(/\d[eE][+-]?\d/);
  });

  it('samples long histories down to at most 60 points, keeping the first and last epoch', () => {
    const long = Array.from({ length: 500 }, (_, i) => i);
    const head = succeeded(HEAD_SHA, [run({}, 42, { loss: long })]);
    const charts = renderCharts({ head, base: head, ...labels });
    const axis = /x-axis "epoch" \[([^\]]*)\]/.exec(charts)?.[1]?.split(', ') ?? [];
    expect(axis.length).toBeLessThanOrEqual(60);
    expect(axis[0]).toBe('1');
    expect(axis.at(-1)).toBe('500');
  });

  it("draws a series the worker sampled (historyEpochs) over all its epochs, beside the other side's full one", () => {
    // The head logged 300,000 steps (value = step), kept as 500 evenly spaced points; the base 3 epochs.
    const sampled = Array.from({ length: 500 }, (_, i) => Math.round((i * 299_999) / 499));
    const head = succeeded(HEAD_SHA, [
      { ...run({}, 42, { loss: sampled }), historyEpochs: { loss: 300_000 } },
    ]);
    const base = succeeded(BASE_SHA, [run({}, 42, { loss: [7, 8, 9] })]);
    const charts = renderCharts({ head, base, ...labels });
    const axis = /x-axis "epoch" \[([^\]]*)\]/.exec(charts)?.[1]?.split(', ') ?? [];
    expect(axis.length).toBe(60);
    expect([axis[0], axis.at(-1)]).toEqual(['1', '300000']);
    const [headLine, baseLine] = [...charts.matchAll(/ {2}line \[([^\]]*)\]/g)].map((m) => m[1]?.split(', '));
    // Each drawn epoch shows the kept point nearest to it: the step itself, within one spacing.
    expect(headLine).toHaveLength(60);
    headLine?.forEach((value, i) => {
      expect(Math.abs(Number(value) - (Number(axis[i]) - 1))).toBeLessThanOrEqual(601);
    });
    expect([headLine?.[0], headLine?.at(-1)]).toEqual(['0', '299999']);
    // The base stops where its 3 epochs end: only the axis' first epoch is one of them.
    expect(baseLine).toEqual(['7']);
  });

  // A series name is PR text: `constructor` or `toString` on one side only must not read what
  // Object.prototype holds under that name on the other, nor must anything a polluted prototype
  // holds (simulated here by each history's own prototype) become a line or an epoch count.
  it("draws only a run's own series and epoch counts, never inherited ones", () => {
    const head = succeeded(HEAD_SHA, [
      { ...run({}, 42, { constructor: [1, 2, 3] }), historyEpochs: Object.create({ constructor: 300 }) },
    ]);
    const base = succeeded(BASE_SHA, [
      { ...run({}, 42, Object.create({ constructor: [9, 9, 9] })), historyEpochs: {} },
    ]);
    const charts = renderCharts({ head, base, ...labels });
    expect(charts).toContain('title "constructor"');
    expect(charts).toContain('🟦 head `abc1234` · base `def5678` wrote no history');
    expect(charts).toContain('x-axis "epoch" [1, 2, 3]');
    expect([...charts.matchAll(/ {2}line \[([^\]]*)\]/g)].map((m) => m[1])).toEqual(['1, 2, 3']);
  });

  it('averages the history over repeats', () => {
    const head = succeeded(HEAD_SHA, [run({}, 42, { loss: [0.4, 0.2] }), run({}, 43, { loss: [0.6, 0.4] })]);
    const charts = renderCharts({ head, base: head, ...labels });
    expect(charts).toContain('Per epoch, mean over runs');
    expect(charts).toContain('line [0.5, 0.3]');
  });

  it('keeps series names from breaking the chart syntax', () => {
    const head = succeeded(HEAD_SHA, [run({}, 42, { 'val "acc"\n]': [1, 2] })]);
    const charts = renderCharts({ head, base: head, ...labels });
    expect(charts).toContain('title "val  acc"');
  });

  it('draws at most eight charts and says how many were left out', () => {
    const history = Object.fromEntries(Array.from({ length: 11 }, (_, i) => [`s${i}`, [1, 2]]));
    const head = succeeded(HEAD_SHA, [run({}, 42, history)]);
    const charts = renderCharts({ head, base: head, ...labels });
    expect(charts.match(/```mermaid/g)).toHaveLength(8);
    expect(charts).toContain('3 more series not drawn.');
  });
});
