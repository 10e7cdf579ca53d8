import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import {
  ConfigError,
  envInt,
  githubEndpointEnv,
  loadGitHubAppCredentials,
  parseEnv,
  redisEnv,
  redisTargetOf,
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
