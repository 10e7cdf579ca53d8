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
      '  - REDIS_URL: is required; set it to the Redis server, e.g. redis://localhost:6379',
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
