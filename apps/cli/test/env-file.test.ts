import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseEnv } from 'node:util';
import { loadGitHubAppCredentials } from '@evalbot/config';
import { generateAppKeyPair } from '@evalbot/github-sim';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { formatEnvValue, mergeEnv, updateEnvFile } from '../src/setup/env-file.ts';

describe('mergeEnv', () => {
  it('replaces keys in place and keeps comments, blank lines and other keys', () => {
    const before =
      '# evalbot\nREDIS_URL=redis://redis:6379\n\nAPP_ID=1\nWEBHOOK_SECRET=old # rotated\nLOG_LEVEL=debug\n';
    const after = mergeEnv(before, { APP_ID: '42', WEBHOOK_SECRET: 'new' });
    expect(after).toBe(
      '# evalbot\nREDIS_URL=redis://redis:6379\n\nAPP_ID=42\nWEBHOOK_SECRET=new\nLOG_LEVEL=debug\n',
    );
  });

  it('appends new keys, deletes null ones and drops duplicate assignments', () => {
    const after = mergeEnv('export APP_ID=1\nPRIVATE_KEY_PATH=/keys/app.pem\nAPP_ID=2\n', {
      APP_ID: '42',
      PRIVATE_KEY_PATH: null,
      WEBHOOK_SECRET: 's3cret',
    });
    expect(after).toBe('APP_ID=42\nWEBHOOK_SECRET=s3cret\n');
  });

  it('removes every line of a multi-line quoted key it replaces', () => {
    const before =
      'A=1\nPRIVATE_KEY="-----BEGIN RSA PRIVATE KEY-----\nMIIE\n-----END RSA PRIVATE KEY-----"\nB=2\n';
    expect(mergeEnv(before, { PRIVATE_KEY: 'x' })).toBe('A=1\nPRIVATE_KEY=x\nB=2\n');
  });

  it('creates a file from nothing', () => {
    expect(mergeEnv('', { APP_ID: '7' })).toBe('APP_ID=7\n');
  });
});

describe('formatEnvValue', () => {
  it('quotes only what needs quoting, and refuses what no .env syntax can hold', () => {
    expect(formatEnvValue('K', 'abc123')).toBe('abc123');
    expect(formatEnvValue('K', '/keys/app.pem')).toBe('/keys/app.pem');
    expect(formatEnvValue('K', 'two words')).toBe("'two words'");
    expect(formatEnvValue('K', "it's")).toBe('"it\'s"');
    expect(formatEnvValue('K', 'a\nb')).toBe('"a\\nb"');
    expect(() => formatEnvValue('K', 'a"b\nc')).toThrow(/line breaks and quotes/);
  });

  it("writes a private key that Node's .env parser and loadGitHubAppCredentials read back exactly", () => {
    const { privateKey } = generateAppKeyPair();
    const text = mergeEnv('', { APP_ID: '42', PRIVATE_KEY: privateKey.trimEnd(), WEBHOOK_SECRET: 'abc' });
    expect(text.split('\n').filter(Boolean)).toHaveLength(3);
    const credentials = loadGitHubAppCredentials(parseEnv(text));
    expect(credentials).toEqual({ appId: 42, privateKey: privateKey.trim() });
  });
});

describe('updateEnvFile', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'evalbot-env-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('leaves the file readable by its owner only, even when it was readable by all', async () => {
    const path = join(dir, '.env');
    await writeFile(path, 'REDIS_URL=redis://localhost:6379\n', { mode: 0o644 });
    await updateEnvFile(path, { WEBHOOK_SECRET: 'abc' });
    expect(await readFile(path, 'utf8')).toBe('REDIS_URL=redis://localhost:6379\nWEBHOOK_SECRET=abc\n');
    expect((await stat(path)).mode & 0o777).toBe(0o600);
  });

  it('creates a missing file', async () => {
    const path = join(dir, 'config', '.env');
    await updateEnvFile(path, { APP_ID: '1' });
    expect(await readFile(path, 'utf8')).toBe('APP_ID=1\n');
  });
});
