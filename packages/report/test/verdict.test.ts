import { describe, expect, it } from 'vitest';
import { buildReport } from '../src/index.ts';
import { BASE_SHA, config, failed, HEAD_SHA, input, run, succeeded } from './fixtures.ts';

const GATED = config(
  'metrics:\n  accuracy: { fail_if_worse_by: 0.005 }\n  loss: { fail_if_worse_by_pct: 10 }\n',
);

function verdictOf(head: Record<string, number>[], base: Record<string, number>[], baseConfig = GATED) {
  const report = buildReport(
    input(
      succeeded(
        HEAD_SHA,
        head.map((m, i) => run(m, 42 + i)),
      ),
      succeeded(
        BASE_SHA,
        base.map((m, i) => run(m, 42 + i)),
      ),
      { baseConfig },
    ),
  );
  return report;
}

describe('verdict: thresholds from the base config decide the conclusion', () => {
  it('passes when every gated metric stays within its limit', () => {
    const r = verdictOf([{ accuracy: 0.972, loss: 0.13 }], [{ accuracy: 0.975, loss: 0.125 }]);
    expect(r.verdict.conclusion).toBe('success');
    expect(r.checkRun.conclusion).toBe('success');
    expect(r.summaryLine).toBe('accuracy −0.30 pts, loss +0.005 — passes');
  });

  it('fails when a metric is worse by more than fail_if_worse_by, in the metric’s units', () => {
    const r = verdictOf([{ accuracy: 0.9612, loss: 0.12 }], [{ accuracy: 0.9753, loss: 0.12 }]);
    expect(r.verdict.conclusion).toBe('failure');
    expect(r.verdict.failures).toEqual(['accuracy 1.41 pts worse (limit 0.50 pts)']);
    expect(r.summaryLine).toBe(
      'accuracy −1.41 pts, loss 0 — fails: accuracy 1.41 pts worse (limit 0.50 pts)',
    );
  });

  it('fails when a metric is worse by more than fail_if_worse_by_pct of the base value', () => {
    const r = verdictOf([{ accuracy: 0.975, loss: 0.14 }], [{ accuracy: 0.975, loss: 0.125 }]);
    expect(r.verdict.failures).toEqual(['loss 12% worse (limit 10%)']);
  });

  it('does not fail exactly at the limit', () => {
    const r = verdictOf([{ accuracy: 0.97, loss: 0.11 }], [{ accuracy: 0.975, loss: 0.1 }]);
    expect(r.verdict.conclusion).toBe('success');
  });

  it('treats any worsening of a zero base as beyond a percentage limit', () => {
    const c = config('metrics:\n  error: { fail_if_worse_by_pct: 50 }\n');
    expect(verdictOf([{ error: 0.001 }], [{ error: 0 }], c).verdict.conclusion).toBe('failure');
    expect(verdictOf([{ error: 0 }], [{ error: 0 }], c).verdict.conclusion).toBe('success');
  });

  it('follows directions from .evalbot.yml over the name', () => {
    const c = config('metrics:\n  loss: { direction: higher, fail_if_worse_by: 0.01 }\n');
    const r = verdictOf([{ loss: 0.2 }], [{ loss: 0.3 }], c);
    expect(r.verdict.failures).toEqual(['loss 0.1 worse (limit 0.01)']);
    expect(r.rows[0]?.outcome).toBe('worse');
  });

  it('fails when a gated metric disappears from the head', () => {
    const r = verdictOf([{ loss: 0.12 }], [{ accuracy: 0.975, loss: 0.12 }]);
    expect(r.verdict.conclusion).toBe('failure');
    expect(r.verdict.failures).toEqual(["accuracy missing from head's metrics (it has a threshold)"]);
  });

  it('is neutral (informative) without thresholds, even when metrics get worse', () => {
    const r = verdictOf([{ accuracy: 0.5 }], [{ accuracy: 0.975 }], config());
    expect(r.verdict.conclusion).toBe('neutral');
    expect(r.summaryLine).toBe('accuracy −47.50 pts — informative only (no thresholds)');
    expect(r.markdown).toContain('no thresholds are set in the base branch’s `.evalbot.yml`');
  });

  it('is neutral and says why when no threshold could be checked', () => {
    const c = config('metrics:\n  f1: { fail_if_worse_by: 0.01 }\n  custom_score: { fail_if_worse_by: 1 }\n');
    const r = verdictOf([{ accuracy: 0.9, custom_score: 3 }], [{ accuracy: 0.95, custom_score: 5 }], c);
    expect(r.verdict.conclusion).toBe('neutral');
    expect(r.verdict.unchecked).toEqual([
      { name: 'custom_score', reason: 'it has no direction: set `direction: higher` or `lower`' },
      { name: 'f1', reason: 'neither side reported it' },
    ]);
    expect(r.markdown).toContain('The threshold on custom\\_score was not checked: it has no direction');
  });

  it('takes thresholds only from the base config: the head cannot loosen its own gate', () => {
    // buildReport has no head config input at all; a head .evalbot.yml that drops the threshold
    // changes nothing, because only baseConfig is read.
    const head = succeeded(HEAD_SHA, [run({ accuracy: 0.9 })]);
    const base = succeeded(BASE_SHA, [run({ accuracy: 0.975 })]);
    const report = buildReport(input(head, base, { baseConfig: GATED }));
    expect(report.checkRun.conclusion).toBe('failure');
  });
});

describe('verdict: noise', () => {
  const noisyGate = config('repeats: 3\nmetrics:\n  accuracy: { fail_if_worse_by: 0.001 }\n');

  it('does not fail on a change beyond the limit that is within noise', () => {
    const r = verdictOf(
      [{ accuracy: 0.9712 }, { accuracy: 0.9655 }, { accuracy: 0.9741 }],
      [{ accuracy: 0.9748 }, { accuracy: 0.9701 }, { accuracy: 0.9733 }],
      noisyGate,
    );
    expect(r.rows[0]?.noise?.withinNoise).toBe(true);
    expect(r.rows[0]?.threshold).toMatchObject({ exceeded: true, fails: false });
    expect(r.verdict.conclusion).toBe('success');
    expect(r.markdown).toContain('⚪ within noise (p = 0.45) · over limit 0.10 pts, not failed');
  });

  it('fails on a change beyond the limit that is beyond noise', () => {
    const r = verdictOf(
      [{ accuracy: 0.97 }, { accuracy: 0.9712 }, { accuracy: 0.9695 }],
      [{ accuracy: 0.981 }, { accuracy: 0.982 }, { accuracy: 0.9805 }],
      noisyGate,
    );
    expect(r.rows[0]?.noise?.withinNoise).toBe(false);
    expect(r.verdict.conclusion).toBe('failure');
    expect(r.markdown).toContain(
      '| −1.09 pts | −1.11% | 🔴 worse (p < 0.001) · **fails** (limit 0.10 pts) |',
    );
  });

  it('uses the significance level of the base config', () => {
    const lenient = config(
      'repeats: 3\nsignificance: 0.6\nmetrics:\n  accuracy: { fail_if_worse_by: 0.001 }\n',
    );
    const r = verdictOf(
      [{ accuracy: 0.9712 }, { accuracy: 0.9655 }, { accuracy: 0.9741 }],
      [{ accuracy: 0.9748 }, { accuracy: 0.9701 }, { accuracy: 0.9733 }],
      lenient,
    );
    expect(r.rows[0]?.noise?.withinNoise).toBe(false);
    expect(r.verdict.conclusion).toBe('failure');
  });
});

describe('verdict: failed sides', () => {
  const base = succeeded(BASE_SHA, [run({ accuracy: 0.975 })]);

  it('fails the check when the head failed', () => {
    const r = buildReport(
      input(failed(HEAD_SHA, 'setup', 'pip failed', 'ERROR: no matching distribution'), base),
    );
    expect(r.checkRun.conclusion).toBe('failure');
    expect(r.summaryLine).toBe('head failed at setup — fails');
    expect(r.checkRun.title).toBe('head failed at setup — fails');
  });

  it('is neutral when only the base failed: the PR is not blamed for its base', () => {
    const r = buildReport(
      input(succeeded(HEAD_SHA, [run({ accuracy: 0.98 })]), failed(BASE_SHA, 'run', 'killed', 'Killed'), {
        baseConfig: GATED,
      }),
    );
    expect(r.checkRun.conclusion).toBe('neutral');
    expect(r.summaryLine).toBe('accuracy 98.00% — not compared (base failed at run)');
    expect(r.markdown).toContain('That is not this PR’s fault, so the check is neutral rather than failed.');
    // The head's metrics still show.
    expect(r.markdown).toContain('| accuracy ↑ | — | 98.00% | — | — | not compared |');
  });

  it('fails when both sides failed, naming both', () => {
    const r = buildReport(input(failed(HEAD_SHA, 'run', 'x', ''), failed(BASE_SHA, 'setup', 'y', '')));
    expect(r.checkRun.conclusion).toBe('failure');
    expect(r.summaryLine).toBe('head failed at run, base failed at setup too — fails');
  });
});
