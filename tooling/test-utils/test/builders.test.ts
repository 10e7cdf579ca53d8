import { mkdtemp, readlink, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { commit, git, pullRequest, titleSkippedIf } from '../src/index.ts';

const dirs: string[] = [];
afterEach(async () => {
  for (const dir of dirs.splice(0)) await rm(dir, { recursive: true, force: true });
});

describe('git', () => {
  it('commits files and symlinks as the fixed test author, and says what git said when it fails', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'evalbot-test-utils-git-'));
    dirs.push(dir);
    await git(dir, 'init', '-q', '-b', 'main', '.');
    const sha = await commit(
      dir,
      { 'model/demo.py': 'print(1)\n', 'link.py': { symlink: 'model/demo.py' } },
      'First',
    );

    expect(sha).toMatch(/^[0-9a-f]{40}$/);
    expect(await git(dir, 'log', '-1', '--format=%an <%ae> %s')).toBe('Test <test@example.com> First');
    expect(await git(dir, 'ls-files')).toBe('link.py\nmodel/demo.py');
    expect(await readlink(join(dir, 'link.py'))).toBe('model/demo.py');
    await expect(git(dir, 'rev-parse', 'no-such-branch')).rejects.toThrow(/unknown revision/);
  });
});

describe('pullRequest', () => {
  it('gives the web and clone URLs of the owner and repository it is given', () => {
    expect(pullRequest({ owner: 'octo', repo: 'mnist' })).toMatchObject({
      owner: 'octo',
      repo: 'mnist',
      repoHtmlUrl: 'https://github.com/octo/mnist',
      cloneUrl: 'https://github.com/octo/mnist.git',
    });
    expect(pullRequest({ cloneUrl: 'https://ghe.example/octo/m.git' }).cloneUrl).toBe(
      'https://ghe.example/octo/m.git',
    );
  });
});

describe('titleSkippedIf', () => {
  it('names what is missing in the title of a skipped test, and leaves a test that runs as it is', () => {
    expect(titleSkippedIf('ends a fork bomb', 'no writable cgroup hierarchy in /sys/fs/cgroup')).toBe(
      'ends a fork bomb — skipped: no writable cgroup hierarchy in /sys/fs/cgroup',
    );
    expect(titleSkippedIf('ends a fork bomb', undefined)).toBe('ends a fork bomb');
  });
});
