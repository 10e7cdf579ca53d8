import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { getPullRequest } from '../src/index.ts';
import { captureLogger, type Stage, startStage } from './fixtures.ts';

let stage: Stage;
const capture = captureLogger();
beforeAll(async () => {
  stage = await startStage({ app: { logger: capture.logger } });
});
afterAll(() => stage.close());

describe('logging', () => {
  it('logs each call with the delivery id, and never a token, JWT or key', async () => {
    const log = capture.logger.child({ deliveryId: 'delivery-123' });
    const octokit = stage.app.installationOctokit(1, log);
    await getPullRequest(octokit, { owner: 'octo', repo: 'model', pullNumber: 1 });
    stage.sim.injectFault({ route: 'GET /repos/:o/:r/pulls/:n', kind: 'secondary-rate-limit' });
    await getPullRequest(octokit, { owner: 'octo', repo: 'model', pullNumber: 1 });
    await getPullRequest(octokit, { owner: 'octo', repo: 'model', pullNumber: 404 }).catch(() => undefined);

    const lines = capture.lines().map((l) => JSON.parse(l) as Record<string, unknown>);
    const calls = lines.filter((l) => l.msg === 'github request' || l.msg === 'github request failed');
    expect(calls.length).toBeGreaterThanOrEqual(3);
    for (const call of calls.filter((c) => String(c.route).includes('pulls'))) {
      expect(call).toMatchObject({ deliveryId: 'delivery-123', installationId: 1 });
    }
    expect(
      lines.some((l) => l.msg === 'GitHub secondary rate limit' && l.deliveryId === 'delivery-123'),
    ).toBe(true);
    expect(calls.find((c) => c.status === 404)).toMatchObject({
      route: 'GET /repos/{owner}/{repo}/pulls/{pull_number}',
    });

    const text = capture.lines().join('\n');
    const token = await stage.app.installationToken(1);
    expect(text).not.toContain(token);
    expect(text).not.toMatch(/ghs_[A-Za-z0-9]{20,}/);
    expect(text).not.toMatch(/eyJ[\w-]{10,}\.[\w-]{10,}\./);
    expect(text).not.toContain('PRIVATE KEY');
  });
});
