import { ConfigError } from '@evalbot/config';
import { redisTargetEnv } from '@evalbot/test-utils';
import { describe, expect, it } from 'vitest';
import { isLoopbackHost, loadConfig } from '../src/config.ts';

const REDIS_URL = 'redis://localhost:6379';

describe('loadConfig', () => {
  it('defaults to loopback port 3001, the evalbot prefix and no credentials', () => {
    const config = loadConfig({ REDIS_URL });
    expect(config).toMatchObject({
      redis: { url: REDIS_URL },
      prefix: 'evalbot',
      host: '127.0.0.1',
      port: 3001,
      basePath: '/',
      logLevel: 'info',
      credentials: {},
    });
  });

  it('reads Basic credentials, a token, a prefix and a base path', () => {
    const config = loadConfig({
      REDIS_URL,
      BULLMQ_PREFIX: 'staging',
      DASHBOARD_HOST: '0.0.0.0',
      DASHBOARD_PORT: '8080',
      DASHBOARD_BASE_PATH: '/ops/queues/',
      DASHBOARD_USER: 'admin',
      DASHBOARD_PASSWORD: 'correct horse',
      DASHBOARD_TOKEN: 'a'.repeat(32),
    });
    expect(config).toMatchObject({
      prefix: 'staging',
      host: '0.0.0.0',
      port: 8080,
      basePath: '/ops/queues/',
      credentials: { basic: { user: 'admin', password: 'correct horse' }, token: 'a'.repeat(32) },
    });
  });

  it('carries REDIS_URL, REDIS_TLS_CA_FILE and the Sentinel group as one Redis target', async () => {
    const redis = await redisTargetEnv('dashboard');
    try {
      expect(loadConfig({ ...{ REDIS_URL }, ...redis.env }).redis).toEqual(redis.target);
    } finally {
      await redis.remove();
    }
    expect(() => loadConfig({ REDIS_URL, REDIS_SENTINEL_MASTER: 'mymaster' })).toThrow(
      'REDIS_SENTINEL_MASTER: is set but REDIS_SENTINELS is not; list the Sentinels in REDIS_SENTINELS, or unset it',
    );
  });

  it('refuses to listen beyond loopback without credentials and says which variables to set', () => {
    expect(() => loadConfig({ REDIS_URL, DASHBOARD_HOST: '0.0.0.0' })).toThrow(ConfigError);
    expect(() => loadConfig({ REDIS_URL, DASHBOARD_HOST: '0.0.0.0' })).toThrow(
      /DASHBOARD_USER and DASHBOARD_PASSWORD.*DASHBOARD_TOKEN.*127\.0\.0\.1/,
    );
  });

  it('treats empty credentials, as compose passes them, as unset', () => {
    expect(() =>
      loadConfig({ REDIS_URL, DASHBOARD_HOST: '0.0.0.0', DASHBOARD_USER: '', DASHBOARD_PASSWORD: '' }),
    ).toThrow(/needs credentials/);
  });

  it('accepts a token alone beyond loopback', () => {
    const config = loadConfig({ REDIS_URL, DASHBOARD_HOST: '0.0.0.0', DASHBOARD_TOKEN: 't'.repeat(24) });
    expect(config.credentials).toEqual({ token: 't'.repeat(24) });
  });

  it('names every bad variable at once', () => {
    let error: unknown;
    try {
      loadConfig({
        DASHBOARD_PORT: 'eighty',
        DASHBOARD_TOKEN: 'short',
        DASHBOARD_BASE_PATH: 'ops',
        DASHBOARD_USER: 'bob',
      });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const variables = (error as ConfigError).problems.map((p) => p.variable).sort();
    expect(variables).toEqual([
      'DASHBOARD_BASE_PATH',
      'DASHBOARD_PASSWORD',
      'DASHBOARD_PORT',
      'DASHBOARD_TOKEN',
      'REDIS_URL',
    ]);
  });

  it('requires the user and the password together', () => {
    expect(() => loadConfig({ REDIS_URL, DASHBOARD_USER: 'admin' })).toThrow(
      /DASHBOARD_PASSWORD: is required when DASHBOARD_USER is set/,
    );
    expect(() => loadConfig({ REDIS_URL, DASHBOARD_PASSWORD: 'pw' })).toThrow(
      /DASHBOARD_USER: is required when DASHBOARD_PASSWORD is set/,
    );
  });
});

describe('isLoopbackHost', () => {
  it('knows loopback addresses from the rest', () => {
    for (const host of ['127.0.0.1', '127.1.2.3', 'localhost', '::1', '[::1]']) {
      expect(isLoopbackHost(host), host).toBe(true);
    }
    for (const host of ['0.0.0.0', '::', '192.168.1.4', 'dashboard.example.com']) {
      expect(isLoopbackHost(host), host).toBe(false);
    }
  });
});
