// Screenshots of golden comments as GitHub would show them, for the docs:
//   pnpm exec tsx packages/report/scripts/screenshot-goldens.ts
// writes docs/report-normal.png (improvement), docs/report-failed.png (failed head, its log
// opened) and docs/report-charts.png (training history). Needs Debian's chromium.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { launchChromium } from '@evalbot/test-utils';
import { openCommentViewer } from '../test/browser/browser-page.ts';

const ROOT = join(import.meta.dirname, '..', '..', '..');
const GOLDEN_DIR = join(import.meta.dirname, '..', 'test', 'golden');

const SHOTS = [
  { golden: 'improvement.md', out: 'docs/report-normal.png', open: [] as number[] },
  { golden: 'failed-head.md', out: 'docs/report-failed.png', open: [0] },
  { golden: 'charts.md', out: 'docs/report-charts.png', open: [] },
];

const browser = await launchChromium();
try {
  for (const shot of SHOTS) {
    const markdown = readFileSync(join(GOLDEN_DIR, shot.golden), 'utf8');
    const viewer = await openCommentViewer(browser, 1000);
    await viewer.show(markdown);
    const page = viewer.page;
    // Open the sections a reader would click, e.g. the failed side's log.
    await page.evaluate(
      `(${JSON.stringify(shot.open)}).forEach((i) => { document.querySelectorAll('details')[i].open = true; })`,
    );
    await page.locator('.comment').screenshot({ path: join(ROOT, shot.out) });
    await page.close();
    console.log(`wrote ${shot.out}`);
  }
} finally {
  await browser.close();
}
