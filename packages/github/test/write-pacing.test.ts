import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Stage, startStage } from './fixtures.ts';

const INTERVAL_MS = 1_500;
const COMMENTS = 'POST /repos/:owner/:repo/issues/:number/comments';

// GitHub counts writes (and its secondary limits) per installation: one installation's comments
// are paced, but they do not hold back another installation's.
describe('write pacing', () => {
  let stage: Stage;
  let other: { owner: string; repo: string; number: number };
  beforeAll(async () => {
    stage = await startStage({
      app: { throttle: { retries: 3, retryAfterBaseValue: 5, writeIntervalMs: INTERVAL_MS } },
    });
    stage.sim.createInstallation({ id: 2, account: 'acme' });
    await stage.sim.createRepo({ owner: 'acme', name: 'model', files: { 'demo.py': 'print(1)\n' } });
    const opened = await stage.sim.openPullRequest({
      owner: 'acme',
      repo: 'model',
      head: 'feature',
      files: { 'demo.py': 'print(2)\n' },
    });
    other = { owner: 'acme', repo: 'model', number: opened.number };
  });
  afterAll(async () => {
    await stage?.close();
  });

  it('spaces one installation’s writes and lets another installation’s go at once', async () => {
    const comment = (
      installationId: number,
      pr: { owner: string; repo: string; number: number },
      n: number,
    ) =>
      stage.app.installationOctokit(installationId).rest.issues.createComment({
        owner: pr.owner,
        repo: pr.repo,
        issue_number: pr.number,
        body: `comment ${n}`,
      });
    // Tokens first: Octokit paces when a request is sent, and a token minted for the first
    // request alone (a JWT, a round trip) would delay its arrival and bring the two closer.
    await Promise.all([stage.app.installationToken(1), stage.app.installationToken(2)]);
    await Promise.all([
      comment(1, stage.pr, 1),
      comment(1, stage.pr, 2),
      comment(2, other, 1),
      comment(2, other, 2),
    ]);

    const startedAt = (owner: string) =>
      stage.sim
        .requestsMatching(COMMENTS)
        .filter((r) => r.path.startsWith(`/repos/${owner}/`))
        .map((r) => r.startedAt)
        .sort((a, b) => a - b);
    const [octoFirst = 0, octoSecond = 0] = startedAt('octo');
    const [acmeFirst = 0, acmeSecond = 0] = startedAt('acme');
    const seen = `octo at ${octoFirst}, ${octoSecond}; acme at ${acmeFirst}, ${acmeSecond}`;
    // Paced within an installation… (Octokit spaces the sends; the stand-in sees arrivals).
    expect(octoSecond - octoFirst, seen).toBeGreaterThanOrEqual(INTERVAL_MS * 0.8);
    expect(acmeSecond - acmeFirst, seen).toBeGreaterThanOrEqual(INTERVAL_MS * 0.8);
    // …but the second installation's first comment did not wait behind the first's.
    expect(Math.abs(acmeFirst - octoFirst), seen).toBeLessThan(INTERVAL_MS / 2);
    expect(stage.sim.comments('octo', 'model', stage.pr.number)).toHaveLength(2);
    expect(stage.sim.comments('acme', 'model', other.number)).toHaveLength(2);
  });
});
