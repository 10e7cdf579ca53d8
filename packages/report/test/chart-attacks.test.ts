import { browserSkipReason, launchChromium, titleSkippedIf } from '@evalbot/test-utils';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { renderCharts } from '../src/index.ts';
import { type CommentViewer, openCommentViewer } from './browser/browser-page.ts';
import { BASE_SHA, HEAD_SHA, run, succeeded } from './fixtures.ts';

// A PR's history series (names and per-epoch values) are drawn by GitHub's Mermaid: a value or a
// name that breaks the chart grammar shows the reader an error box instead of the chart.

const skipReason = browserSkipReason();
const labels = { headLabel: '`abc1234`', baseLabel: '`def5678`' };

describe.skipIf(skipReason !== undefined)(
  titleSkippedIf('history the PR writes, drawn by Mermaid in Chromium', skipReason),
  () => {
    let browser: Browser;
    let viewer: CommentViewer;
    beforeAll(async () => {
      browser = await launchChromium();
      viewer = await openCommentViewer(browser);
    });
    afterAll(async () => {
      await viewer?.close();
      await browser?.close();
    });

    it('draws extreme finite values: the largest doubles, subnormals, -0 and integers past 2^53', async () => {
      const series: Record<string, number[]> = {
        largest: [Number.MAX_VALUE, -Number.MAX_VALUE, 1],
        subnormal: [Number.MIN_VALUE, -Number.MIN_VALUE, 1e-300],
        zeros: [-0, 0, -0],
        huge_integers: [1e21, 123456789012345680, 2 ** 60],
      };
      const head = succeeded(HEAD_SHA, [run({}, 42, series)]);
      const base = succeeded(BASE_SHA, [
        run({}, 42, Object.fromEntries(Object.entries(series).map(([k, v]) => [k, v.map((x) => x / 2)]))),
      ]);
      const { mermaid } = await viewer.show(renderCharts({ head, base, ...labels }));
      expect(mermaid).toHaveLength(4);
      for (const chart of mermaid) expect(chart).toMatchObject({ ok: true, error: null });
    });

    it('draws series whose names hold quotes, brackets, newlines, directives and bidi controls', async () => {
      const names = [
        'val "acc"\n]\n  line [1e9',
        '%%{init: {"theme": "dark"}}%%',
        'a\u202eb 𝐀𝐁',
        '```',
        '<img src=x>',
      ];
      const head = succeeded(HEAD_SHA, [run({}, 42, Object.fromEntries(names.map((n) => [n, [1, 2]])))]);
      const markdown = renderCharts({ head, base: head, ...labels });
      const { mermaid } = await viewer.show(markdown);
      expect(mermaid).toHaveLength(names.length);
      for (const chart of mermaid) expect(chart).toMatchObject({ ok: true, error: null });
      expect(markdown).not.toMatch(/[\u202a-\u202e]|<img|%%\{init: \{"theme"/);
    });
  },
);
