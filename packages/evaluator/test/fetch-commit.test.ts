import { createHash } from 'node:crypto';
import { readdir, readFile, stat, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { freePort } from '@evalbot/test-utils';
import { afterEach, describe, expect, it } from 'vitest';
import { checkCloneUrl } from '../src/check-clone-url.ts';
import { type EvaluateCommitOptions, evaluateCommit, InfrastructureError } from '../src/index.ts';
import {
  commit,
  FAKE_MODEL,
  fileCacheDir,
  git,
  leftovers,
  makeRepo,
  removedAfterEach,
  tempDir,
} from './helpers.ts';

const remove = removedAfterEach();
const cache = fileCacheDir();
const servers: Server[] = [];
afterEach(async () => {
  for (const server of servers.splice(0)) {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  }
});

/** The model also reports whether its checkout has a .git directory. */
const MODEL = {
  ...FAKE_MODEL,
  'demo.py':
    'import json, os\njson.dump({"has_git": int(os.path.exists(".git")), "v": 1}, open("result.txt", "w"))\n',
};

async function evaluateRemote(url: string, sha: string, extra: Partial<EvaluateCommitOptions> = {}) {
  const workRoot = await tempDir('work');
  remove(workRoot);
  try {
    return await evaluateCommit({
      source: { url, sha, fetchRefs: [] },
      allowedOrigin: url.replace(/\/[^/]*$/, ''),
      side: 'head',
      workRoot,
      cacheDir: cache.path,
      maxTimeoutMs: 60_000,
      ...extra,
    });
  } finally {
    expect(await leftovers(workRoot)).toEqual([]);
  }
}

/** A bare copy of `repoDir`, reachable as file:///…/model.git. */
async function bareCopy(repoDir: string): Promise<{ url: string; dir: string }> {
  const parent = await tempDir('bare');
  remove(parent);
  const dir = join(parent, 'model.git');
  await git(parent, 'clone', '-q', '--bare', repoDir, dir);
  return { url: `file://${dir}`, dir };
}

/** An HTTP server answering every request with `status`, or never answering (`'hang'`). */
async function fakeGitServer(status: number | 'hang'): Promise<string> {
  const server = createServer((_req, res) => {
    if (status === 'hang') return;
    res.writeHead(status, { 'content-type': 'text/plain' }).end(`status ${status}`);
  });
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

describe('fetching the commit', () => {
  it('fetches exactly the SHA from a remote and runs it without a .git directory', async () => {
    const repo = await makeRepo(MODEL);
    remove(repo.dir);
    const remote = await bareCopy(repo.dir);
    const result = await evaluateRemote(remote.url, repo.sha);
    expect(result).toMatchObject({ ok: true, sha: repo.sha, runs: [{ metrics: { has_git: 0, v: 1 } }] });
  });

  it('fetches a fork head that only a pull ref reaches from a protocol v0 server', async () => {
    const repo = await makeRepo(MODEL);
    remove(repo.dir);
    const remote = await bareCopy(repo.dir);
    await git(remote.dir, 'update-ref', 'refs/pull/7/head', repo.sha);
    await git(remote.dir, 'update-ref', '-d', 'refs/heads/main');
    // Protocol v0 servers refuse SHAs that no advertised ref points at.
    const v0 = { GIT_CONFIG_COUNT: '1', GIT_CONFIG_KEY_0: 'protocol.version', GIT_CONFIG_VALUE_0: '0' };
    const result = await evaluateRemote(remote.url, repo.sha, {
      source: { url: remote.url, sha: repo.sha, fetchRefs: ['refs/pull/7/head'], gitEnv: v0 },
    });
    expect(result).toMatchObject({ ok: true, runs: [{ metrics: { v: 1 } }] });
    expect(result.logTail).toContain('$ git fetch --depth=1');
  });

  it('tries fetchRefs, then returns a clone failure when the commit is gone (a force-push race)', async () => {
    const repo = await makeRepo(MODEL);
    remove(repo.dir);
    const remote = await bareCopy(repo.dir);
    await git(remote.dir, 'update-ref', 'refs/pull/7/head', repo.sha);
    const lost = await commit(repo.dir, { 'demo.py': 'pass\n' }, 'force-pushed away');
    const result = await evaluateRemote(remote.url, lost, {
      source: { url: remote.url, sha: lost, fetchRefs: ['refs/pull/7/head'] },
    });
    expect(result).toMatchObject({ ok: false, stage: 'clone' });
    expect(result.ok ? '' : result.message).toMatch(
      new RegExp(
        `^commit ${lost} is not available from ${remote.url}; tried ${lost} \\(.*not our ref.*\\), refs/pull/7/head \\(now points to ${repo.sha.slice(0, 12)}\\)\\. The branch was probably force-pushed`,
      ),
    );
  });

  it('refuses a clone URL off the allowed origin without running git', async () => {
    const result = await evaluateRemote('https://evil.example/o/r.git', 'a'.repeat(40), {
      allowedOrigin: 'https://github.com',
    });
    expect(result).toMatchObject({
      ok: false,
      stage: 'clone',
      message: 'refused to clone https://evil.example/o/r.git: it is not on https://github.com',
    });
    expect(result.logTail).toBe('');
  });

  it('refuses a clone URL with credentials in it, without repeating them', async () => {
    const result = await evaluateRemote(
      'https://x-access-token:ghs_secret@github.com/o/r.git',
      'a'.repeat(40),
      {
        allowedOrigin: 'https://github.com',
      },
    );
    expect(result).toMatchObject({ ok: false, stage: 'clone' });
    expect(JSON.stringify(result)).not.toContain('ghs_secret');
  });

  it('throws a retryable InfrastructureError when the git server is unreachable', async () => {
    const url = `http://127.0.0.1:${await freePort()}/o/r.git`;
    const error = await evaluateRemote(url, 'a'.repeat(40)).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(InfrastructureError);
    expect(error).toMatchObject({
      retryable: true,
      message: expect.stringContaining("Couldn't connect to server"),
    });
  });

  it('throws a retryable InfrastructureError when the git server answers 5xx', async () => {
    const origin = await fakeGitServer(503);
    const error = await evaluateRemote(`${origin}/o/r.git`, 'a'.repeat(40)).catch((e: unknown) => e);
    expect(error).toMatchObject({
      name: 'InfrastructureError',
      retryable: true,
      message: expect.stringContaining('503'),
    });
  });

  it('throws a non-retryable InfrastructureError when the server refuses the credential', async () => {
    const origin = await fakeGitServer(403);
    const error = await evaluateRemote(`${origin}/o/r.git`, 'a'.repeat(40), {
      source: {
        url: `${origin}/o/r.git`,
        sha: 'a'.repeat(40),
        gitEnv: {
          GIT_CONFIG_COUNT: '1',
          GIT_CONFIG_KEY_0: 'http.extraHeader',
          GIT_CONFIG_VALUE_0: 'Authorization: Basic eC1hY2Nlc3MtdG9rZW46Z2hzX3NlY3JldHRva2Vu',
        },
      },
    }).catch((e: unknown) => e);
    expect(error).toMatchObject({ name: 'InfrastructureError', retryable: false });
    expect((error as Error).message).toMatch(/403/);
    expect((error as Error).message).not.toMatch(/eC1hY2Nl|ghs_secrettoken/);
  });

  it('gives up on a clone that does not finish in time, as a retryable InfrastructureError', async () => {
    const origin = await fakeGitServer('hang');
    const started = Date.now();
    const error = await evaluateRemote(`${origin}/o/r.git`, 'a'.repeat(40), {
      cloneTimeoutMs: 1000,
      killGraceMs: 200,
    }).catch((e: unknown) => e);
    expect(error).toMatchObject({
      name: 'InfrastructureError',
      retryable: true,
      message: expect.stringContaining('did not finish within 1 s'),
    });
    expect(Date.now() - started).toBeLessThan(10_000);
  });

  it('evaluates a commit of a local repository without touching that repository', async () => {
    const repo = await makeRepo(MODEL);
    remove(repo.dir);
    await writeFile(join(repo.dir, 'demo.py'), 'raise SystemExit("uncommitted change")\n');
    const before = await snapshot(repo.dir);
    const workRoot = await tempDir('work');
    remove(workRoot);
    const result = await evaluateCommit({
      source: { path: repo.dir, sha: repo.sha },
      side: 'head',
      workRoot,
      cacheDir: cache.path,
      maxTimeoutMs: 60_000,
    });
    expect(result).toMatchObject({ ok: true, runs: [{ metrics: { v: 1 } }] });
    expect(await snapshot(repo.dir)).toEqual(before);
  });
});

describe('checkCloneUrl', () => {
  it.each([
    ['https://github.com/o/r.git', 'https://github.com', undefined],
    ['https://ghe.example.com/o/r.git', 'https://ghe.example.com/', undefined],
    ['https://ghe.example.com/git/o/r.git', 'https://ghe.example.com/git', undefined],
    [
      'https://ghe.example.com/gitx/o/r.git',
      'https://ghe.example.com/git',
      'it is not on https://ghe.example.com/git',
    ],
    ['http://github.com/o/r.git', 'https://github.com', 'it is not on https://github.com'],
    ['https://github.com.evil.example/o/r.git', 'https://github.com', 'it is not on https://github.com'],
    ['https://github.com:8443/o/r.git', 'https://github.com', 'it is not on https://github.com'],
    [
      'https://token@github.com/o/r.git',
      'https://github.com',
      'it carries credentials; pass them as gitEnv instead',
    ],
    ['ext::sh -c touch% /tmp/pwned', 'https://github.com', 'the ext: scheme is not allowed'],
    [
      'ssh://git@github.com/o/r.git',
      'https://github.com',
      'it carries credentials; pass them as gitEnv instead',
    ],
    ['/tmp/repo', 'https://github.com', 'it is not a URL'],
  ])('%s on %s: %s', (url, origin, problem) => {
    expect(checkCloneUrl(url, origin)).toBe(problem);
  });
});

/** Every file under `dir` (including .git) with its content hash and mode. */
async function snapshot(dir: string): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const entry of await readdir(dir, { recursive: true, withFileTypes: true })) {
    const path = join(entry.parentPath, entry.name);
    const st = await stat(path);
    out[path] = entry.isFile()
      ? `${st.mode}:${createHash('sha1')
          .update(await readFile(path))
          .digest('hex')}`
      : String(st.mode);
  }
  return out;
}
