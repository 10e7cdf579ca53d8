import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  classifyGitHubError,
  createCheckRun,
  getPullRequest,
  isRetryableGitHubError,
  permanentGitHubError,
  upsertPullRequestComment,
} from '../src/index.ts';
import { type Stage, startStage } from './fixtures.ts';

let stage: Stage;
beforeAll(async () => {
  stage = await startStage();
});
afterAll(() => stage.close());

const PULL = 'GET /repos/:owner/:repo/pulls/:number';
const readPull = (number = 1) =>
  getPullRequest(stage.app.installationOctokit(1), { owner: 'octo', repo: 'model', pullNumber: number });
const attempts = (route: string, since: number) => stage.sim.requestsMatching(route).length - since;

describe('retries and rate limits', () => {
  it('retries 500s with back-off and then succeeds', async () => {
    const before = stage.sim.requestsMatching(PULL).length;
    stage.sim.injectFault({ route: PULL, kind: 'error', status: 500, times: 2 });
    const pr = await readPull();
    expect(pr.number).toBe(1);
    expect(attempts(PULL, before)).toBe(3);
  });

  it('retries a 502 on a write, so the comment is still posted once', async () => {
    const route = 'POST /repos/:owner/:repo/issues/:number/comments';
    stage.sim.injectFault({ route, kind: 'error', status: 502 });
    const result = await upsertPullRequestComment(stage.app.installationOctokit(1), {
      owner: 'octo',
      repo: 'model',
      issueNumber: 1,
      body: 'report',
      botLogin: await stage.app.botLogin(),
    });
    expect(result.action).toBe('created');
    expect(stage.sim.comments('octo', 'model', 1).filter((c) => c.user.type === 'Bot')).toHaveLength(1);
  });

  it('waits out a secondary rate limit (403 and 429) for retry-after, then succeeds', async () => {
    for (const status of [403, 429] as const) {
      const before = stage.sim.requestsMatching(PULL).length;
      stage.sim.injectFault({ route: PULL, kind: 'secondary-rate-limit', status, retryAfterSeconds: 2 });
      const started = performance.now();
      await readPull();
      // retry-after 2 s × 5 ms per second in the test's throttle policy.
      expect(performance.now() - started).toBeGreaterThanOrEqual(9);
      expect(attempts(PULL, before)).toBe(2);
    }
  });

  it('retries a primary rate limit that resets soon', async () => {
    const before = stage.sim.requestsMatching(PULL).length;
    stage.sim.injectFault({ route: PULL, kind: 'rate-limit', resetInSeconds: 1 });
    await readPull();
    expect(attempts(PULL, before)).toBe(2);
  });

  it('retries a failed token mint', async () => {
    const sim = stage.sim;
    sim.createInstallation({ id: 3, account: 'third' });
    await sim.createRepo({ owner: 'third', name: 'model' });
    await sim.openPullRequest({ owner: 'third', repo: 'model', head: 'b', files: { 'f.txt': 'f\n' } });
    sim.injectFault({ route: 'POST /app/installations/3/access_tokens', kind: 'error', status: 503 });
    const pr = await getPullRequest(stage.app.installationOctokit(3), {
      owner: 'third',
      repo: 'model',
      pullNumber: 1,
    });
    expect(pr.head.ref).toBe('b');
  });

  it('gives up after the configured retries with a retryable error', async () => {
    const before = stage.sim.requestsMatching(PULL).length;
    stage.sim.injectFault({ route: PULL, kind: 'error', status: 500, times: 10 });
    const error = await readPull().catch((e: unknown) => e);
    expect(attempts(PULL, before)).toBe(4);
    expect(classifyGitHubError(error)).toMatchObject({ status: 500, retryable: true });
    stage.sim.clearFaults();
  });

  it('fails at once on 404 with GitHub’s message, as a permanent error', async () => {
    const before = stage.sim.requestsMatching(PULL).length;
    const error = await readPull(999).catch((e: unknown) => e);
    expect(attempts(PULL, before)).toBe(1);
    const info = classifyGitHubError(error);
    expect(info).toMatchObject({ status: 404, retryable: false });
    expect(info.message).toMatch(/^Not Found/);
    expect(info.requestId).toMatch(/[0-9A-F:]+/);
  });

  it('fails at once on 422 with GitHub’s message', async () => {
    const route = 'POST /repos/:owner/:repo/check-runs';
    const before = stage.sim.requestsMatching(route).length;
    const error = await createCheckRun(stage.app.installationOctokit(1), {
      owner: 'octo',
      repo: 'model',
      headSha: '0'.repeat(40),
      name: 'evalbot',
    }).catch((e: unknown) => e);
    expect(attempts(route, before)).toBe(1);
    expect(classifyGitHubError(error)).toMatchObject({ status: 422, retryable: false });
    expect((error as Error).message).toContain(`No commit found for SHA: ${'0'.repeat(40)}`);
  });

  it('classifies rate limits and network failures as retryable, auth failures as permanent', () => {
    const res = (headers: Record<string, string>) => ({ headers });
    expect(
      isRetryableGitHubError({
        status: 403,
        message: 'You have exceeded a secondary rate limit',
        response: res({}),
      }),
    ).toBe(true);
    expect(
      isRetryableGitHubError({ status: 403, message: 'x', response: res({ 'x-ratelimit-remaining': '0' }) }),
    ).toBe(true);
    expect(isRetryableGitHubError({ status: 429, message: 'Too many' })).toBe(true);
    expect(isRetryableGitHubError(Object.assign(new Error('connect'), { code: 'ECONNREFUSED' }))).toBe(true);
    expect(isRetryableGitHubError({ status: 401, message: 'Bad credentials' })).toBe(false);
    expect(isRetryableGitHubError({ status: 403, message: 'Resource not accessible by integration' })).toBe(
      false,
    );
  });

  it('names a missing permission a permanent answer at once, without retrying it', async () => {
    const route = 'POST /repos/:owner/:repo/issues/:number/comments';
    const before = stage.sim.requestsMatching(route).length;
    stage.sim.injectFault({
      route,
      kind: 'error',
      status: 403,
      message: 'Resource not accessible by integration',
      times: 10,
    });
    const error = await stage.app
      .installationOctokit(1)
      .rest.issues.createComment({ owner: 'octo', repo: 'model', issue_number: 1, body: 'x' })
      .catch((e: unknown) => e);
    stage.sim.clearFaults();
    expect(attempts(route, before)).toBe(1);
    expect(permanentGitHubError(error)).toMatchObject({
      status: 403,
      message: expect.stringContaining('Resource not accessible by integration'),
    });
    // What may pass later is not permanent: a rate limit, a 5xx, a network failure.
    expect(
      permanentGitHubError({
        status: 403,
        message: 'x',
        response: { headers: { 'x-ratelimit-remaining': '0' } },
      }),
    ).toBeUndefined();
    expect(permanentGitHubError({ status: 502, message: 'Bad Gateway' })).toBeUndefined();
    expect(permanentGitHubError(Object.assign(new Error('reset'), { code: 'ECONNRESET' }))).toBeUndefined();
  });
});
