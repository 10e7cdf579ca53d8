import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { EVALUATE_QUEUE } from '@evalbot/jobs';
import {
  browserSkipReason,
  launchChromium,
  sharedRedis,
  testPrefix,
  titleSkippedIf,
} from '@evalbot/test-utils';
import type { FastifyInstance } from 'fastify';
import { Redis } from 'ioredis';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../src/build-app.ts';
import { addEvaluationFlow, addFailedJob, pullRequest, removeQueues } from './seed-jobs.ts';

const SCREENSHOT = fileURLToPath(new URL('../../../docs/dashboard.png', import.meta.url));
const LOG_LINES = [
  'clone: fetched octo/mnist abc1234 in 1.2 s',
  'setup: pip install -r requirements.txt',
  'ERROR: No matching distribution found for tensorflow==9.9',
];

// Chromium is Debian's package (apt-get install chromium); without it there is no browser to drive.
describe.skipIf(browserSkipReason() !== undefined)(
  titleSkippedIf('dashboard in a browser', browserSkipReason()),
  () => {
    let redis: { url: string; close: () => Promise<void> };
    let connection: Redis;
    let app: FastifyInstance;
    let browser: Browser;
    let address: string;
    let screenshotDir: string;
    const prefix = testPrefix();

    beforeAll(async () => {
      redis = await sharedRedis();
      connection = new Redis(redis.url, { maxRetriesPerRequest: null });
      await addFailedJob(connection, prefix, {
        logLines: LOG_LINES,
        reason: 'setup failed: pip exited with 1',
      });
      await addEvaluationFlow(connection, prefix, pullRequest({ number: 13, headSha: 'f00d'.repeat(10) }));
      app = await buildApp({
        config: { prefix, basePath: '/', credentials: { basic: { user: 'admin', password: 'pw-for-test' } } },
        connection,
      });
      address = await app.listen({ host: '127.0.0.1', port: 0 });
      browser = await launchChromium();
      screenshotDir = await mkdtemp(join(tmpdir(), 'evalbot-dashboard-'));
    });

    afterAll(async () => {
      await browser?.close();
      await app?.close();
      await removeQueues(connection, prefix);
      await connection.quit();
      await redis.close();
      await rm(screenshotDir, { recursive: true, force: true });
    });

    // A browser without credentials is answered 401 too; build-app.test.ts checks that, since
    // headless Chromium turns the Basic challenge into a navigation error rather than a page.
    async function openPage(credentials: { username: string; password: string }) {
      const context = await browser.newContext({
        viewport: { width: 1280, height: 800 },
        httpCredentials: credentials,
      });
      const page = await context.newPage();
      // The board's stylesheet asks for web fonts; nothing may leave this machine.
      await page.route('**/*', (route) =>
        new URL(route.request().url()).hostname === '127.0.0.1' ? route.continue() : route.abort(),
      );
      return { context, page };
    }

    it("shows a failed job's log after signing in", async () => {
      const { context, page } = await openPage({ username: 'admin', password: 'pw-for-test' });
      await page.goto(`${address}/`);
      await page.getByRole('link', { name: EVALUATE_QUEUE }).first().click();
      await page.getByRole('link', { name: /^FAILED/ }).click();
      await page.waitForURL(/status=failed/);

      const card = page.locator('[class*="card-"]', { hasText: 'octo/mnist#12 head abc1234' });
      await card.getByRole('tab', { name: 'Logs' }).click();
      const lastLine = card.getByText(LOG_LINES[2] ?? '');
      await lastLine.waitFor({ state: 'visible' });
      expect(await lastLine.isVisible()).toBe(true);
      expect(await card.getByText(LOG_LINES[1] ?? '').isVisible()).toBe(true);

      // EVALBOT_UPDATE_SCREENSHOTS=1 refreshes the committed picture in docs/.
      const path = process.env.EVALBOT_UPDATE_SCREENSHOTS ? SCREENSHOT : join(screenshotDir, 'dashboard.png');
      await page.screenshot({ path });
      expect((await stat(path)).size).toBeGreaterThan(10_000);
      await context.close();
    });
  },
);
