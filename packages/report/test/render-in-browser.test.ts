import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { browserSkipReason, launchChromium, titleSkippedIf } from '@evalbot/test-utils';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type CommentViewer, type Inspection, openCommentViewer } from './browser/browser-page.ts';

const GOLDEN_DIR = join(import.meta.dirname, 'golden');
const GOLDENS = readdirSync(GOLDEN_DIR)
  .filter((f) => f.endsWith('.md'))
  .sort();
const DIFF_COLUMNS = ['Metric', 'Base def5678', 'Head abc1234', 'Change', 'Relative', 'Result'];
const skipReason = browserSkipReason();
const RESULT =
  /^(🟢 better|🔴 worse|🟠 worse|⚪ unchanged|⚪ within noise|🔵 changed|🆕 only in head|➖ missing in head|🔴 missing in head|head failed|not compared)/;
const CHANGE = /^(—|0|0 pts|[+−][0-9.]+( pts)?)$/;

/** Failures of the diff table: each row must end in a result and have a change, in the right cells. */
function diffTableProblems(table: Inspection['tables'][number]): string[] {
  const problems: string[] = [];
  if (JSON.stringify(table.header) !== JSON.stringify(DIFF_COLUMNS))
    problems.push(`header ${table.header.join(' | ')}`);
  for (const row of table.rows) {
    if (row.length !== DIFF_COLUMNS.length) problems.push(`row of ${row.length} cells: ${row.join(' | ')}`);
    else if (!RESULT.test(row[5] as string) || !CHANGE.test(row[3] as string))
      problems.push(`shifted row: ${row.join(' | ')}`);
  }
  return problems;
}

describe.skipIf(skipReason !== undefined)(
  titleSkippedIf('golden comments in Chromium, as GitHub would render them', skipReason),
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

    it('has goldens to check', () => {
      expect(GOLDENS.length).toBeGreaterThanOrEqual(7);
    });

    it('catches what would break on GitHub: a shifted table row, an unclosed block, a bad chart', async () => {
      const broken = [
        '| Metric | Base `def5678` | Head `abc1234` | Change | Relative | Result |',
        '|:--|--:|--:|--:|--:|:--|',
        '| a|b | 1 | 2 | +1 | +100% | 🟢 better |',
        '',
        '<details>',
        '<summary>log</summary>',
        '',
        '````text',
        'x',
        '```',
        '',
        '</details>',
        '',
        '<sub>footer</sub>',
      ].join('\n');
      const first = await viewer.show(broken);
      expect(diffTableProblems(first.inspection.tables[0] as Inspection['tables'][number])).toEqual([
        'shifted row: a | b | 1 | 2 | +1 | +100%',
      ]);
      // A three-backtick line cannot close a four-backtick fence: the rest of the comment is swallowed.
      expect(first.inspection.footer).toBeNull();

      const chart = await viewer.show('```mermaid\nxychart-beta\n  line [1e-5, 2]\n```\n');
      expect(chart.mermaid[0]?.ok).toBe(false);
      expect(chart.mermaid[0]?.error).toMatch(/Parse error/);
    });

    for (const file of GOLDENS) {
      it(`renders ${file} with whole tables, closed details and drawable charts`, async () => {
        const markdown = readFileSync(join(GOLDEN_DIR, file), 'utf8');
        const { mermaid, inspection } = await viewer.show(markdown);
        // Tables: every row has as many cells as the header; the diff table has its six columns.
        for (const table of inspection.tables) {
          expect(table.header.length).toBeGreaterThan(0);
          for (const count of table.rowCellCounts) expect(count).toBe(table.header.length);
        }
        if (markdown.includes('| Metric |')) {
          expect(diffTableProblems(inspection.tables[0] as Inspection['tables'][number])).toEqual([]);
        }

        // Details: as many as the Markdown opens, none swallowed by another, each with a summary.
        const opened = markdown.split('\n').filter((line) => line === '<details>').length;
        expect(opened).toBe(markdown.split('\n').filter((line) => line === '</details>').length);
        expect(inspection.details).toHaveLength(opened);
        for (const d of inspection.details) {
          expect(d.summary).toBeTruthy();
          expect(d.nested).toBe(false);
          expect(d.open).toBe(false);
        }
        // What follows the last details is outside it: the footer and the embedded history.
        const history = inspection.comments.find((c) => c.text.startsWith('evalbot:history'));
        expect(history?.insideDetails).toBe(false);
        expect(inspection.footer?.insideDetails).toBe(false);
        if (opened > 0) expect(inspection.topLevelAfterLastDetails.length).toBeGreaterThan(0);

        // Charts: every ```mermaid block parses and draws an SVG.
        const fenced = markdown.split('\n').filter((line) => line === '```mermaid').length;
        expect(mermaid).toHaveLength(fenced);
        for (const chart of mermaid) {
          expect(chart.error).toBeNull();
          expect(chart.ok).toBe(true);
        }

        // Nothing from a log escapes its code block.
        expect(inspection.scripts).toBe(0);
      });
    }
  },
);
