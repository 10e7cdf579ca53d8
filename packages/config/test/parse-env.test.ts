import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import {
  ConfigError,
  DEFAULT_WEBHOOK_PATH,
  envInt,
  githubEndpointEnv,
  loadGitHubAppCredentials,
  parseEnv,
  prefixEnv,
  redisEnv,
  redisTargetOf,
  webhookEndpointEnv,
  workDirsEnv,
} from '../src/index.ts';

const PEM_ON_ONE_LINE = '-----BEGIN RSA PRIVATE KEY-----\\nMIIE\\n-----END RSA PRIVATE KEY-----';

/** What a user sees when start-up refuses the environment. */
function messageOf(load: () => unknown): string {
  try {
    load();
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return (error as ConfigError).message;
  }
  throw new Error('the environment was accepted');
}

describe('parseEnv', () => {
  it('names every bad variable in one message, with what to fix and where they are documented', () => {
    const schema = z.object({
      ...redisEnv,
      ...githubEndpointEnv,
      PORT: envInt({ default: 3000, min: 0, max: 65535 }),
    });
    const message = messageOf(() =>
      parseEnv(schema, {
        REDIS_URL: ' ',
        GITHUB_URL: 'ftp://example.com',
        GITHUB_API_URL: 'api',
        PORT: '80.5',
      }),
    );
    expect(message.split('\n')).toEqual([
      'Invalid configuration — fix these environment variables (see .env.example):',
      '  - REDIS_URL: is required; set it to the Redis server, e.g. redis://:PASSWORD@localhost:6379',
      '  - GITHUB_API_URL: "api" is not a URL; use e.g. https://api.github.com',
      '  - GITHUB_URL: "ftp://example.com" must start with http:// or https://',
      '  - PORT: "80.5" is not a whole number between 0 and 65535',
    ]);
  });
});

describe('loadGitHubAppCredentials', () => {
  it('reads a private key pasted on one line with literal \\n, as Probot does', () => {
    expect(loadGitHubAppCredentials({ APP_ID: ' 7 ', PRIVATE_KEY: PEM_ON_ONE_LINE })).toEqual({
      appId: 7,
      privateKey: '-----BEGIN RSA PRIVATE KEY-----\nMIIE\n-----END RSA PRIVATE KEY-----',
    });
  });

  it('says which variable holds something that is not a PEM private key', async () => {
    expect(messageOf(() => loadGitHubAppCredentials({ APP_ID: '7', PRIVATE_KEY: 'ghp_token' }))).toMatch(
      /- PRIVATE_KEY: is not a PEM private key/,
    );
    const dir = await mkdtemp(join(tmpdir(), 'evalbot-config-'));
    try {
      const path = join(dir, 'key.pem');
      await writeFile(path, 'ssh-rsa AAAA user@host\n');
      expect(messageOf(() => loadGitHubAppCredentials({ APP_ID: '7', PRIVATE_KEY_PATH: path }))).toMatch(
        /- PRIVATE_KEY_PATH: is not a PEM private key/,
      );
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('loadGitHubAppCredentials with both PRIVATE_KEY and PRIVATE_KEY_PATH', () => {
  it('refuses them rather than letting one silently win, and says to keep one', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'evalbot-config-'));
    try {
      const path = join(dir, 'new-key.pem');
      await writeFile(path, '-----BEGIN RSA PRIVATE KEY-----\nNEW\n-----END RSA PRIVATE KEY-----\n');
      const message = messageOf(() =>
        loadGitHubAppCredentials({ APP_ID: '7', PRIVATE_KEY: PEM_ON_ONE_LINE, PRIVATE_KEY_PATH: path }),
      );
      expect(message).toMatch(/- PRIVATE_KEY\/PRIVATE_KEY_PATH: are both set; keep one/);
      // The message names the variables, never the key.
      expect(message).not.toContain('MIIE');
      // Either alone is read.
      expect(loadGitHubAppCredentials({ APP_ID: '7', PRIVATE_KEY_PATH: path }).privateKey).toContain('NEW');
      expect(
        loadGitHubAppCredentials({ APP_ID: '7', PRIVATE_KEY: PEM_ON_ONE_LINE, PRIVATE_KEY_PATH: ' ' })
          .privateKey,
      ).toContain('MIIE');
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('redisEnv and redisTargetOf', () => {
  const schema = z.object(redisEnv);
  const CERTIFICATE = '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n';

  it('takes a password in REDIS_URL and a CA file for rediss://', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'evalbot-config-'));
    try {
      const caFile = join(dir, 'ca.crt');
      await writeFile(caFile, CERTIFICATE);
      expect(redisTargetOf(parseEnv(schema, { REDIS_URL: 'redis://worker:s3cret@redis:6379' }))).toEqual({
        url: 'redis://worker:s3cret@redis:6379',
      });
      expect(
        redisTargetOf(
          parseEnv(schema, { REDIS_URL: 'rediss://:pw@redis.example:6380', REDIS_TLS_CA_FILE: caFile }),
        ),
      ).toEqual({ url: 'rediss://:pw@redis.example:6380', tlsCa: CERTIFICATE });
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('says what is wrong with a CA file it cannot use', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'evalbot-config-'));
    try {
      const notPem = join(dir, 'ca.der');
      await writeFile(notPem, 'binary');
      expect(
        messageOf(() => parseEnv(schema, { REDIS_URL: 'rediss://r:6380', REDIS_TLS_CA_FILE: notPem })),
      ).toContain(`- REDIS_TLS_CA_FILE: ${notPem} holds no PEM certificate`);
      const missing = join(dir, 'missing.crt');
      expect(
        messageOf(() => parseEnv(schema, { REDIS_URL: 'rediss://r:6380', REDIS_TLS_CA_FILE: missing })),
      ).toContain(`- REDIS_TLS_CA_FILE: cannot read ${missing}: ENOENT`);
      await writeFile(join(dir, 'ca.crt'), CERTIFICATE);
      // A CA file does not turn TLS on behind a plain redis:// URL's back.
      expect(
        messageOf(() =>
          redisTargetOf(
            parseEnv(schema, { REDIS_URL: 'redis://r:6379', REDIS_TLS_CA_FILE: join(dir, 'ca.crt') }),
          ),
        ),
      ).toContain('- REDIS_TLS_CA_FILE: is set but REDIS_URL starts with redis:// (no TLS); use rediss://');
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('refuses a REDIS_URL that is not a URL and says to percent-encode the password', () => {
    expect(messageOf(() => parseEnv(schema, { REDIS_URL: 'redis://:pw@redis:port' }))).toContain(
      'percent-encode any "@", ":", "/" or "%" in the password',
    );
    expect(messageOf(() => parseEnv(schema, { REDIS_URL: 'localhost:6379' }))).toContain(
      'must start with redis:// or rediss:// (TLS)',
    );
  });
});

describe('REDIS_SENTINELS', () => {
  const schema = z.object(redisEnv);
  const target = (env: Record<string, string>) => redisTargetOf(parseEnv(schema, env));

  it("reads the Sentinels, the master name and the Sentinels' password", () => {
    expect(
      target({
        REDIS_URL: 'redis://worker:pw@mymaster',
        REDIS_SENTINELS: 'sentinel-1:26379, 10.0.0.2:26380,[::1]:26381',
        REDIS_SENTINEL_MASTER: 'mymaster',
        REDIS_SENTINEL_PASSWORD: 's3ntinel',
      }),
    ).toEqual({
      url: 'redis://worker:pw@mymaster',
      sentinel: {
        sentinels: [
          { host: 'sentinel-1', port: 26379 },
          { host: '10.0.0.2', port: 26380 },
          { host: '::1', port: 26381 },
        ],
        name: 'mymaster',
        password: 's3ntinel',
      },
    });
  });

  it('names each address that is not HOST:PORT', () => {
    const message = messageOf(() =>
      parseEnv(schema, { REDIS_URL: 'redis://r', REDIS_SENTINELS: 'sentinel-1,s2:26379,s3:99999' }),
    );
    expect(message).toContain('- REDIS_SENTINELS: "sentinel-1" is not HOST:PORT; list the Sentinels as');
    expect(message).toContain('- REDIS_SENTINELS: "s3:99999" is not HOST:PORT');
    expect(message).not.toContain('"s2:26379"');
  });

  it('asks for the master name with the Sentinels, and for the Sentinels with a master name', () => {
    expect(messageOf(() => target({ REDIS_URL: 'redis://r', REDIS_SENTINELS: 's1:26379' }))).toContain(
      '- REDIS_SENTINEL_MASTER: is required with REDIS_SENTINELS; set it to the master group name',
    );
    const orphans = messageOf(() =>
      target({
        REDIS_URL: 'redis://r:6379',
        REDIS_SENTINEL_MASTER: 'mymaster',
        REDIS_SENTINEL_PASSWORD: 'pw',
      }),
    );
    expect(orphans).toContain('- REDIS_SENTINEL_MASTER: is set but REDIS_SENTINELS is not');
    expect(orphans).toContain('- REDIS_SENTINEL_PASSWORD: is set but REDIS_SENTINELS is not');
    expect(
      messageOf(() => parseEnv(schema, { REDIS_URL: 'redis://r', REDIS_SENTINEL_MASTER: 'my master' })),
    ).toContain('- REDIS_SENTINEL_MASTER: must be the master group name the Sentinels monitor');
  });

  it('speaks TLS to the Sentinels and the master with a rediss:// URL', () => {
    expect(
      target({
        REDIS_URL: 'rediss://:pw@mymaster',
        REDIS_SENTINELS: 's1:26379',
        REDIS_SENTINEL_MASTER: 'mymaster',
      }).sentinel,
    ).toEqual({ sentinels: [{ host: 's1', port: 26379 }], name: 'mymaster', tls: true });
  });
});

describe('BULLMQ_PREFIX', () => {
  const schema = z.object(prefixEnv);
  const prefixOf = (value: string | undefined) => parseEnv(schema, { BULLMQ_PREFIX: value }).BULLMQ_PREFIX;

  it('takes a plain prefix, a Redis Cluster hash tag, or a hash tag followed by more', () => {
    expect(prefixOf(undefined)).toBe('evalbot');
    expect(prefixOf('staging-2.a_b')).toBe('staging-2.a_b');
    expect(prefixOf('{evalbot}')).toBe('{evalbot}');
    expect(prefixOf('{evalbot}-staging')).toBe('{evalbot}-staging');
  });

  it('refuses ":" and braces anywhere but one hash tag at the start, saying what to write', () => {
    for (const bad of ['a:b', 'evalbot{x}', '{}', '{a}{b}', '{a', 'a}', '{a:b}']) {
      expect(
        messageOf(() => prefixOf(bad)),
        bad,
      ).toContain(
        '- BULLMQ_PREFIX: use letters, digits, "_", "." or "-" (BullMQ adds the ":"), optionally after one Redis Cluster hash tag at the start, e.g. {evalbot}',
      );
    }
  });
});

describe('webhookEndpointEnv and workDirsEnv', () => {
  it("gives DESIGN.md's webhook endpoint and the worker's directories when nothing is set", () => {
    expect(parseEnv(z.object(webhookEndpointEnv), {})).toEqual({
      PORT: 3000,
      WEBHOOK_PATH: '/api/github/webhooks',
    });
    expect(DEFAULT_WEBHOOK_PATH).toBe('/api/github/webhooks');
    const cacheDir = process.getuid?.() === 0 ? '/var/cache/evalbot' : join(homedir(), '.cache', 'evalbot');
    expect(parseEnv(z.object(workDirsEnv), { EVALBOT_WORK_DIR: '' })).toEqual({
      EVALBOT_WORK_DIR: join(tmpdir(), 'evalbot-work'),
      EVALBOT_CACHE_DIR: cacheDir,
    });
  });

  it('takes what is set and names a port or path it cannot use', () => {
    expect(parseEnv(z.object(webhookEndpointEnv), { PORT: '8080', WEBHOOK_PATH: '/hooks' })).toEqual({
      PORT: 8080,
      WEBHOOK_PATH: '/hooks',
    });
    const message = messageOf(() =>
      parseEnv(z.object(webhookEndpointEnv), { PORT: '70000', WEBHOOK_PATH: 'hooks' }),
    );
    expect(message).toContain('PORT: "70000" is not a whole number between 0 and 65535');
    expect(message).toContain('WEBHOOK_PATH: must be a URL path starting with /');
  });
});
