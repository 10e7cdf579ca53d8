import { generateKeyPairSync } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError } from '@evalbot/config';
import { redisTargetEnv } from '@evalbot/test-utils';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../src/env.ts';

const { privateKey } = generateKeyPairSync('rsa', {
  modulusLength: 2048,
  privateKeyEncoding: { type: 'pkcs1', format: 'pem' },
  publicKeyEncoding: { type: 'spki', format: 'pem' },
});
const valid = { REDIS_URL: 'redis://localhost:6379', APP_ID: '12', PRIVATE_KEY: privateKey };

function problemsOf(env: Record<string, string>, host: { devDir?: string } = {}): string[] {
  try {
    loadConfig(env, host);
  } catch (error) {
    if (error instanceof ConfigError) return error.problems.map((p) => `${p.variable}: ${p.problem}`);
    throw error;
  }
  return [];
}

describe('worker configuration', () => {
  it('fills in the documented defaults', () => {
    const config = loadConfig({ ...valid, PIP_INDEX_URL: 'file:///opt/pypi/simple', SECRET_THING: 'x' });
    expect(config).toMatchObject({
      redis: { url: 'redis://localhost:6379' },
      prefix: 'evalbot',
      evaluateLabel: 'evaluate',
      concurrency: 1,
      routerConcurrency: 8,
      recoveryIntervalMs: 300_000,
      apiUrl: 'https://api.github.com',
      githubUrl: 'https://github.com',
      maxTimeoutMs: 60 * 60_000,
      metricsPort: 9464,
      metricsHost: '127.0.0.1',
      python: 'python3',
      sandbox: {
        uids: { first: 50000, last: 50999 },
        limits: {
          memoryBytes: 8 * 1024 ** 3,
          processes: 512,
          fileSizeBytes: 4 * 1024 ** 3,
          diskBytes: 10 * 1024 ** 3,
          tmpBytes: 1024 ** 3,
        },
      },
      app: { appId: 12 },
    });
    // Only pip's mirror settings are passed on to PR installs.
    expect(config.pipEnv).toEqual({ PIP_INDEX_URL: 'file:///opt/pypi/simple' });
  });

  it('carries REDIS_URL, REDIS_TLS_CA_FILE and the Sentinel group as one Redis target', async () => {
    const redis = await redisTargetEnv('worker');
    try {
      expect(loadConfig({ ...valid, ...redis.env }).redis).toEqual(redis.target);
    } finally {
      await redis.remove();
    }
    expect(problemsOf({ ...valid, REDIS_SENTINEL_MASTER: 'mymaster' })).toEqual([
      'REDIS_SENTINEL_MASTER: is set but REDIS_SENTINELS is not; list the Sentinels in REDIS_SENTINELS, or unset it',
    ]);
  });

  it('runs the delivery recovery job every DELIVERY_RECOVERY_INTERVAL_SECONDS, or never with 0', () => {
    expect(loadConfig({ ...valid, DELIVERY_RECOVERY_INTERVAL_SECONDS: '60' }).recoveryIntervalMs).toBe(
      60_000,
    );
    expect(loadConfig({ ...valid, DELIVERY_RECOVERY_INTERVAL_SECONDS: '0' }).recoveryIntervalMs).toBe(0);
    expect(problemsOf({ ...valid, DELIVERY_RECOVERY_INTERVAL_SECONDS: 'hourly' })).toEqual([
      expect.stringMatching(/^DELIVERY_RECOVERY_INTERVAL_SECONDS: /),
    ]);
    expect(problemsOf({ ...valid, ROUTER_CONCURRENCY: '0' })).toEqual([
      expect.stringMatching(/^ROUTER_CONCURRENCY: /),
    ]);
  });

  it('keeps whole job logs beside the work directories unless told where, within the sizes set', () => {
    expect(loadConfig({ ...valid, EVALBOT_WORK_DIR: '/var/lib/evalbot/work' }).jobLogs).toEqual({
      dir: '/var/lib/evalbot/evalbot-job-logs',
      maxFileBytes: 64 * 1024 ** 2,
      maxTotalBytes: 1024 ** 3,
    });
    const custom = loadConfig({
      ...valid,
      EVALBOT_JOB_LOG_DIR: '/var/log/evalbot',
      EVALBOT_JOB_LOG_MAX_MB: '200',
      EVALBOT_JOB_LOG_FILE_MAX_MB: '10',
    });
    expect(custom.jobLogs).toEqual({
      dir: '/var/log/evalbot',
      maxFileBytes: 10 * 1024 ** 2,
      maxTotalBytes: 200 * 1024 ** 2,
    });
    expect(problemsOf({ ...valid, EVALBOT_JOB_LOG_MAX_MB: '1GB' })).toEqual([
      expect.stringMatching(/^EVALBOT_JOB_LOG_MAX_MB: /),
    ]);
  });

  it('shares results only between the repositories an operator groups, and bounds the cache in GB', () => {
    const defaults = loadConfig(valid);
    expect(defaults.shareResults).toEqual([]);
    expect(defaults.cacheMaxBytes).toBe(50 * 1024 ** 3);
    const set = loadConfig({
      ...valid,
      EVALBOT_SHARE_RESULTS: 'Octo/Model, alice/model ; org/mono,org/mono-mirror',
      EVALBOT_CACHE_MAX_GB: '0.5',
    });
    expect(set.shareResults).toEqual([
      ['octo/model', 'alice/model'],
      ['org/mono', 'org/mono-mirror'],
    ]);
    expect(set.cacheMaxBytes).toBe(512 * 1024 ** 2);
    expect(problemsOf({ ...valid, EVALBOT_SHARE_RESULTS: 'octo', EVALBOT_CACHE_MAX_GB: 'lots' })).toEqual([
      'EVALBOT_SHARE_RESULTS: "octo" is not owner/name; list groups of repositories as owner/a,owner/b;org/c,org/d',
      'EVALBOT_CACHE_MAX_GB: "lots" is not a size in GB (e.g. 50 or 0.5; 0 for no bound)',
    ]);
    expect(problemsOf({ ...valid, EVALBOT_SHARE_RESULTS: 'octo/model' })).toEqual([
      'EVALBOT_SHARE_RESULTS: the group "octo/model" has one repository; a group shares results between two or more (owner/a,owner/b)',
    ]);
  });

  it('checks for jobs of lost workers every lock duration (at most 30 s) unless WORKER_STALLED_INTERVAL_MS says otherwise', () => {
    expect(loadConfig(valid)).toMatchObject({ lockDurationMs: 30_000, stalledIntervalMs: 30_000 });
    expect(loadConfig({ ...valid, WORKER_LOCK_DURATION_MS: '3000' })).toMatchObject({
      lockDurationMs: 3000,
      stalledIntervalMs: 3000,
    });
    expect(loadConfig({ ...valid, WORKER_LOCK_DURATION_MS: '120000' }).stalledIntervalMs).toBe(30_000);
    expect(loadConfig({ ...valid, WORKER_STALLED_INTERVAL_MS: '5000' }).stalledIntervalMs).toBe(5000);
    expect(problemsOf({ ...valid, WORKER_STALLED_INTERVAL_MS: '5s' })).toEqual([
      'WORKER_STALLED_INTERVAL_MS: "5s" is not a whole number between 500 and 600000',
    ]);
  });

  it('names every bad variable in one error, with how to fix it', () => {
    const problems = problemsOf({
      APP_ID: 'twelve',
      WORKER_CONCURRENCY: 'lots',
      EVALBOT_SANDBOX_UIDS: 'nobody',
      BULLMQ_PREFIX: 'a:b',
    });
    expect(problems).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^REDIS_URL: is required; set it to the Redis server/),
        expect.stringMatching(/^APP_ID: "twelve" is not a positive whole number/),
        expect.stringMatching(/^PRIVATE_KEY: is required \(or PRIVATE_KEY_PATH\)/),
        expect.stringMatching(/^WORKER_CONCURRENCY: "lots" is not a whole number between 1 and 64/),
        expect.stringMatching(/^EVALBOT_SANDBOX_UIDS: must be a range of uids, e.g. 50000-50999/),
        expect.stringMatching(/^BULLMQ_PREFIX: use letters, digits/),
      ]),
    );
  });

  it('takes the sandbox uids as a range, refuses root, and names what replaced EVALBOT_RUN_AS_USER', () => {
    expect(loadConfig({ ...valid, EVALBOT_SANDBOX_UIDS: '60000-60099' }).sandbox?.uids).toEqual({
      first: 60000,
      last: 60099,
    });
    expect(problemsOf({ ...valid, EVALBOT_SANDBOX_UIDS: '0-10' })).toEqual([
      expect.stringMatching(/^EVALBOT_SANDBOX_UIDS: must be a range of non-root uids/),
    ]);
    expect(problemsOf({ ...valid, EVALBOT_RUN_AS_USER: '10001:10001' })).toEqual([
      expect.stringMatching(/^EVALBOT_RUN_AS_USER: is no longer used: .* EVALBOT_SANDBOX_UIDS/),
    ]);
  });

  it('runs PR code without a sandbox only when EVALBOT_UNSAFE_NO_SANDBOX says so', () => {
    expect(loadConfig({ ...valid, EVALBOT_UNSAFE_NO_SANDBOX: '1' }).sandbox).toBeUndefined();
    expect(loadConfig(valid).sandbox).toBeDefined();
    expect(problemsOf({ ...valid, EVALBOT_UNSAFE_NO_SANDBOX: 'yes please' })).toEqual([
      expect.stringMatching(/^EVALBOT_UNSAFE_NO_SANDBOX: must be 1/),
    ]);
  });

  it('reads the private key from PRIVATE_KEY_PATH and says when it cannot', () => {
    expect(
      problemsOf({ REDIS_URL: valid.REDIS_URL, APP_ID: '1', PRIVATE_KEY_PATH: '/nonexistent/key.pem' }),
    ).toEqual([expect.stringMatching(/^PRIVATE_KEY_PATH: cannot read \/nonexistent\/key\.pem/)]);
  });

  describe('worker pools', () => {
    let devDir: string;
    beforeAll(async () => {
      devDir = await mkdtemp(join(tmpdir(), 'evalbot-fake-dev-'));
      for (const name of ['nvidia1', 'nvidia0', 'nvidiactl', 'nvidia-uvm', 'null']) {
        await writeFile(join(devDir, name), '');
      }
    });
    afterAll(() => rm(devDir, { recursive: true, force: true }));
    const noGpu = '/nonexistent-dev';

    it('takes the default pool, waits 30 minutes for a pool and finds the GPUs in /dev by default', () => {
      expect(loadConfig(valid, { devDir })).toMatchObject({
        pools: ['default'],
        gpuDevices: ['0', '1'],
        poolWaitMs: 30 * 60_000,
      });
      expect(loadConfig(valid, { devDir: noGpu }).gpuDevices).toEqual([]);
    });

    it('takes the pools and GPUs it is given, and fractions of a minute', () => {
      const config = loadConfig(
        {
          ...valid,
          WORKER_POOLS: 'gpu, a100,gpu',
          EVALBOT_GPU_DEVICES: '2,GPU-8f3c9a1e',
          EVALBOT_POOL_WAIT_MINUTES: '0.5',
        },
        { devDir },
      );
      expect(config).toMatchObject({
        pools: ['gpu', 'a100'],
        gpuDevices: ['2', 'GPU-8f3c9a1e'],
        poolWaitMs: 30_000,
      });
      expect(loadConfig({ ...valid, EVALBOT_GPU_DEVICES: 'none' }, { devDir }).gpuDevices).toEqual([]);
    });

    it('refuses a gpu pool on a host without a GPU, saying how to give it one', () => {
      expect(problemsOf({ ...valid, WORKER_POOLS: 'gpu' }, { devDir: noGpu })).toEqual([
        expect.stringMatching(
          /^WORKER_POOLS: includes gpu, but this host has no GPU .* Set EVALBOT_GPU_DEVICES to the GPUs to use \(e\.g\. 0,1\)/,
        ),
      ]);
      expect(
        problemsOf({ ...valid, WORKER_POOLS: 'gpu', EVALBOT_GPU_DEVICES: 'none' }, { devDir }),
      ).toHaveLength(1);
    });

    it('names bad pool names, device lists and waits', () => {
      expect(
        problemsOf(
          {
            ...valid,
            WORKER_POOLS: 'GPU,big memory',
            EVALBOT_GPU_DEVICES: '0,0',
            EVALBOT_POOL_WAIT_MINUTES: 'soon',
          },
          { devDir },
        ),
      ).toEqual([
        expect.stringMatching(/^WORKER_POOLS: "GPU,big memory" is not a comma-separated list of pool names/),
        expect.stringMatching(
          /^EVALBOT_GPU_DEVICES: "0,0" is not a list of distinct GPU indexes or UUIDs; use e\.g\. 0,1/,
        ),
        expect.stringMatching(/^EVALBOT_POOL_WAIT_MINUTES: "soon" is not a number of minutes/),
      ]);
      expect(problemsOf({ ...valid, EVALBOT_POOL_WAIT_MINUTES: '0' }, { devDir })).toHaveLength(1);
    });
  });
});
