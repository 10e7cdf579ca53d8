import { ConfigError } from '@evalbot/config';
import { redisTargetEnv } from '@evalbot/test-utils';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config.ts';

const required = { WEBHOOK_SECRET: 'shh', REDIS_URL: 'redis://127.0.0.1:6379' };

function problemsOf(env: Record<string, string>): string {
  try {
    loadConfig(env);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return (error as Error).message;
  }
  throw new Error('loadConfig accepted the environment');
}

describe('loadConfig', () => {
  it('applies the documented defaults', () => {
    expect(loadConfig(required)).toEqual({
      webhookSecret: 'shh',
      webhookSecretPrevious: undefined,
      redis: { url: 'redis://127.0.0.1:6379' },
      port: 3000,
      host: '0.0.0.0',
      webhookPath: '/api/github/webhooks',
      evaluateLabel: 'evaluate',
      githubUrl: 'https://github.com',
      githubApiUrl: 'https://api.github.com',
      logLevel: 'info',
      installId: undefined,
      enqueueTimeoutMs: 2000,
      bullmqPrefix: 'evalbot',
      requestTimeoutMs: 30_000,
      headersTimeoutMs: 10_000,
      largeBodyBytes: 1024 * 1024,
      maxLargeBodies: 4,
      maxConnections: 256,
      metricsPort: 9465,
      metricsHost: '127.0.0.1',
    });
  });

  it('reads every variable', () => {
    const config = loadConfig({
      ...required,
      WEBHOOK_SECRET_PREVIOUS: 'old',
      PORT: '8080',
      HOST: '127.0.0.1',
      WEBHOOK_PATH: '/hooks/github',
      EVALUATE_LABEL: ' Run-Eval ',
      GITHUB_URL: 'https://ghe.example.com/',
      GITHUB_API_URL: 'https://ghe.example.com/api/v3',
      LOG_LEVEL: 'debug',
      INSTALL_ID: '99',
      ENQUEUE_TIMEOUT_MS: '500',
      BULLMQ_PREFIX: 'staging',
      REQUEST_TIMEOUT_MS: '15000',
      HEADERS_TIMEOUT_MS: '5000',
      LARGE_BODY_BYTES: '262144',
      MAX_LARGE_BODIES: '8',
      MAX_CONNECTIONS: '64',
      GATEWAY_METRICS_PORT: '9100',
      GATEWAY_METRICS_HOST: '0.0.0.0',
    });
    expect(config).toMatchObject({
      webhookSecretPrevious: 'old',
      port: 8080,
      host: '127.0.0.1',
      webhookPath: '/hooks/github',
      evaluateLabel: 'Run-Eval',
      githubUrl: 'https://ghe.example.com',
      githubApiUrl: 'https://ghe.example.com/api/v3',
      logLevel: 'debug',
      installId: 99,
      enqueueTimeoutMs: 500,
      bullmqPrefix: 'staging',
      requestTimeoutMs: 15_000,
      headersTimeoutMs: 5_000,
      largeBodyBytes: 262_144,
      maxLargeBodies: 8,
      maxConnections: 64,
      metricsPort: 9100,
      metricsHost: '0.0.0.0',
    });
  });

  it('carries REDIS_URL, REDIS_TLS_CA_FILE and the Sentinel group as one Redis target', async () => {
    const redis = await redisTargetEnv('gateway');
    try {
      expect(loadConfig({ ...required, ...redis.env }).redis).toEqual(redis.target);
    } finally {
      await redis.remove();
    }
    expect(problemsOf({ ...required, REDIS_SENTINEL_MASTER: 'mymaster' })).toContain(
      'REDIS_SENTINEL_MASTER: is set but REDIS_SENTINELS is not; list the Sentinels in REDIS_SENTINELS, or unset it',
    );
  });

  it('names every missing required variable and how to set it', () => {
    const message = problemsOf({});
    expect(message).toMatch(/WEBHOOK_SECRET: is required; set it to the webhook secret/);
    expect(message).toMatch(/REDIS_URL: is required; set it to the Redis server/);
  });

  it('treats an empty value as unset', () => {
    expect(problemsOf({ ...required, WEBHOOK_SECRET: '  ' })).toMatch(/WEBHOOK_SECRET: is required/);
  });

  it('explains each malformed value', () => {
    const message = problemsOf({
      ...required,
      PORT: 'eighty',
      INSTALL_ID: '-3',
      ENQUEUE_TIMEOUT_MS: '1.5',
      WEBHOOK_PATH: 'api/hooks',
      BULLMQ_PREFIX: 'a:b',
      REDIS_URL: 'localhost:6379',
      LOG_LEVEL: 'loud',
      REQUEST_TIMEOUT_MS: '0',
      LARGE_BODY_BYTES: String(26 * 1024 * 1024),
      MAX_LARGE_BODIES: '0',
    });
    expect(message).toMatch(/PORT: "eighty" is not a whole number between 0 and 65535/);
    expect(message).toMatch(/INSTALL_ID: "-3" is not an installation id/);
    expect(message).toMatch(/ENQUEUE_TIMEOUT_MS: "1.5" is not a whole number/);
    expect(message).toMatch(/WEBHOOK_PATH: must be a URL path starting with \//);
    expect(message).toMatch(/BULLMQ_PREFIX: use letters, digits/);
    expect(message).toMatch(/REDIS_URL: must start with redis:\/\//);
    expect(message).toMatch(/LOG_LEVEL: use one of/);
    expect(message).toMatch(/REQUEST_TIMEOUT_MS: "0" is not a whole number between 100 and 600000/);
    expect(message).toMatch(/LARGE_BODY_BYTES: "27262976" is not a whole number between 1024 and 26214400/);
    expect(message).toMatch(/MAX_LARGE_BODIES: "0" is not a whole number between 1 and 1000/);
  });

  it('shortens the default headers deadline to a shorter request deadline', () => {
    expect(loadConfig({ ...required, REQUEST_TIMEOUT_MS: '5000' })).toMatchObject({
      requestTimeoutMs: 5_000,
      headersTimeoutMs: 5_000,
    });
  });

  it('refuses a headers deadline longer than the whole request deadline', () => {
    expect(problemsOf({ ...required, REQUEST_TIMEOUT_MS: '5000', HEADERS_TIMEOUT_MS: '6000' })).toMatch(
      /HEADERS_TIMEOUT_MS: 6000 is longer than REQUEST_TIMEOUT_MS \(5000\).*lower it or raise REQUEST_TIMEOUT_MS/,
    );
  });

  it('refuses to serve /metrics and /readyz on the public webhook port', () => {
    expect(problemsOf({ ...required, PORT: '8080', GATEWAY_METRICS_PORT: '8080' })).toMatch(
      /GATEWAY_METRICS_PORT: 8080 is also PORT, the public webhook port; give \/metrics and \/readyz a port of their own/,
    );
    expect(loadConfig({ ...required, GATEWAY_METRICS_PORT: '0' }).metricsPort).toBe(0);
  });
});
