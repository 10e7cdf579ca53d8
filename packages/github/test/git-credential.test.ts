import { spawn } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { gitAuthHeader, gitCredentialEnv } from '../src/index.ts';
import { type Stage, startStage } from './fixtures.ts';

let stage: Stage;
let work: string;
beforeAll(async () => {
  stage = await startStage();
});
afterAll(() => stage.close());
beforeEach(async () => {
  work = await mkdtemp(join(tmpdir(), 'evalbot-github-clone-'));
});
afterEach(() => rm(work, { recursive: true, force: true }));

function git(args: string[], env: Record<string, string> = {}) {
  return new Promise<{ code: number | null; stderr: string }>((resolve, reject) => {
    const child = spawn('git', args, {
      cwd: work,
      env: {
        PATH: process.env.PATH ?? '',
        HOME: work,
        GIT_CONFIG_NOSYSTEM: '1',
        GIT_TERMINAL_PROMPT: '0',
        ...env,
      },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (c: Buffer) => {
      stderr += c.toString();
    });
    child.once('error', reject);
    child.once('close', (code) => resolve({ code, stderr }));
  });
}

/** Every file under `dir`, recursively. */
async function filesUnder(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true, recursive: true });
  return entries.filter((e) => e.isFile()).map((e) => join(e.parentPath, e.name));
}

describe('git credential', () => {
  it('clones a private repository with the token in env, and leaves it nowhere in .git', async () => {
    const token = await stage.app.installationToken(1);
    const url = `${stage.sim.gitUrl}/octo/model.git`;
    const env = gitCredentialEnv(token, { url });
    expect(JSON.stringify(env)).not.toContain(token);

    const cloned = await git(['clone', '--quiet', url, 'repo'], env);
    expect(cloned).toMatchObject({ code: 0 });
    expect(await readFile(join(work, 'repo', 'demo.py'), 'utf8')).toBe('print("base")\n');

    const header = gitAuthHeader(token).replace(/^Authorization: Basic /, '');
    for (const file of await filesUnder(join(work, 'repo', '.git'))) {
      const content = await readFile(file);
      expect(content.includes(token), file).toBe(false);
      expect(content.includes(header), file).toBe(false);
    }
    expect(await readFile(join(work, 'repo', '.git', 'config'), 'utf8')).not.toMatch(
      /extraheader|x-access-token/i,
    );
  });

  it('fails to clone the private repository without the credential', async () => {
    const result = await git(['clone', '--quiet', `${stage.sim.gitUrl}/octo/model.git`, 'repo']);
    expect(result.code).not.toBe(0);
    expect(result.stderr).toMatch(/could not read Username|Authentication failed|401/);
  });

  it('sends the header only to the origin it was given for', async () => {
    const token = await stage.app.installationToken(1);
    const env = gitCredentialEnv(token, { url: stage.sim.gitUrl });
    // Same server, other origin (localhost instead of 127.0.0.1): git must not send the token there.
    const otherOrigin = `http://localhost:${stage.sim.port}/octo/model.git`;
    const result = await git(['clone', '--quiet', otherOrigin, 'repo'], env);
    expect(result.code).not.toBe(0);
    expect(result.stderr).toMatch(/could not read Username/);
    // Unscoped, the same clone works: the refusal above is the scoping, not the address.
    const unscoped = await git(['clone', '--quiet', otherOrigin, 'repo2'], gitCredentialEnv(token));
    expect(unscoped.code).toBe(0);
  });

  it('builds the Basic header GitHub expects and appends to existing GIT_CONFIG entries', () => {
    expect(gitAuthHeader('ghs_abc')).toBe(
      `Authorization: Basic ${Buffer.from('x-access-token:ghs_abc').toString('base64')}`,
    );
    const env = gitCredentialEnv('ghs_abc', { env: { GIT_CONFIG_COUNT: '2' } });
    expect(env).toMatchObject({
      GIT_CONFIG_COUNT: '3',
      GIT_CONFIG_KEY_2: 'http.extraHeader',
      GIT_TERMINAL_PROMPT: '0',
    });
  });
});
