import { randomUUID } from 'node:crypto';
import { createGitHubApp } from '@evalbot/github';
import { type GitHubSim, generateAppKeyPair, startGitHubSim } from '@evalbot/github-sim';
import { startRedis, waitFor } from '@evalbot/local-stack';
import { createLogger } from '@evalbot/logger';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { withRedisMutex } from '../src/redis-mutex.ts';

// The per-PR lock against a real Redis, and a real Octokit waiting on the GitHub stand-in's
// rate limit while holding it. Time is scaled down: one second of GitHub's is 10 ms here, so
// the production 60 s lock is 600 ms and a 90 s `retry-after` is 900 ms.
const SECOND = 10;

let redis: Redis;
let closeRedis: () => Promise<void> = async () => {};
let sim: GitHubSim;

beforeAll(async () => {
  let url = process.env.REDIS_URL;
  if (!url) {
    const server = await startRedis();
    url = server.url;
    closeRedis = server.close;
  }
  redis = new Redis(url, { maxRetriesPerRequest: null });
  sim = await startGitHubSim({ privateKey: generateAppKeyPair().privateKey });
  sim.createInstallation({ id: 1, account: 'octo' });
  await sim.createRepo({ owner: 'octo', name: 'model', files: { 'demo.py': 'print(1)\n' } });
  await sim.openPullRequest({
    owner: 'octo',
    repo: 'model',
    head: 'feature',
    files: { 'demo.py': 'print(2)\n' },
  });
});

afterAll(async () => {
  redis?.disconnect();
  await closeRedis();
  await sim?.close();
});

describe('the per-PR lock', () => {
  it('is not taken by another publisher while its holder waits out a 90 s rate limit', async () => {
    const github = createGitHubApp({
      appId: sim.appId,
      privateKey: sim.privateKey ?? '',
      apiUrl: sim.url,
      logger: createLogger({ service: 'evalbot-mutex-test', level: 'silent' }),
      throttle: { retries: 3, retryAfterBaseValue: SECOND, writeIntervalMs: 0 },
    });
    const octokit = github.installationOctokit(1);
    const limited = sim.injectFault({
      route: 'POST /repos/octo/model/issues/:number/comments',
      kind: 'secondary-rate-limit',
      retryAfterSeconds: 90,
    });
    const key = `test-${randomUUID()}:lock`;
    const events: string[] = [];
    const lockOptions = { ttlMs: 60 * SECOND, renewEveryMs: 20 * SECOND, waitMs: 60_000 };

    const first = withRedisMutex(
      redis,
      key,
      async () => {
        await octokit.rest.issues.createComment({
          owner: 'octo',
          repo: 'model',
          issue_number: 1,
          body: 'first',
        });
        events.push('first posted');
      },
      lockOptions,
    );
    await waitFor(() => limited.hits === 1, { what: 'the rate-limited post' });
    const second = withRedisMutex(
      redis,
      key,
      async () => {
        events.push('second entered');
      },
      lockOptions,
    );
    await Promise.all([first, second]);

    expect(events).toEqual(['first posted', 'second entered']);
    expect(sim.comments('octo', 'model', 1).map((c) => c.body)).toEqual(['first']);
    expect(await redis.exists(key)).toBe(0);
  });

  it('expires by itself when its holder stops renewing it (the holder died)', async () => {
    const key = `test-${randomUUID()}:lock`;
    // A holder that died leaves the key with its TTL and no renewal.
    await redis.set(key, 'dead-holder', 'PX', 200);
    let entered = false;
    await withRedisMutex(redis, key, async () => {
      entered = true;
    });
    expect(entered).toBe(true);
  });
});
