import { generateKeyPairSync } from 'node:crypto';
import { ConfigError } from '@evalbot/config';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../src/env.ts';

const { privateKey } = generateKeyPairSync('rsa', {
  modulusLength: 2048,
  privateKeyEncoding: { type: 'pkcs1', format: 'pem' },
  publicKeyEncoding: { type: 'spki', format: 'pem' },
});
const valid = { REDIS_URL: 'redis://localhost:6379', APP_ID: '12', PRIVATE_KEY: privateKey };

function problemsOf(env: Record<string, string>): string[] {
  try {
    loadConfig(env);
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
      dir: '/var/lib/evalbot/work/job-logs',
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
});
