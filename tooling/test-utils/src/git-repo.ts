import { execFile } from 'node:child_process';
import { mkdir, rm, symlink, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';

const exec = promisify(execFile);

// A fixed author, and none of the machine's or user's git config: the same commits everywhere.
const GIT_ENV = {
  GIT_AUTHOR_NAME: 'Test',
  GIT_AUTHOR_EMAIL: 'test@example.com',
  GIT_COMMITTER_NAME: 'Test',
  GIT_COMMITTER_EMAIL: 'test@example.com',
  GIT_CONFIG_NOSYSTEM: '1',
  GIT_CONFIG_GLOBAL: '/dev/null',
};

/** A file's text, or a symlink to `target`. */
export type RepoFile = string | { symlink: string };

/** Runs `git args` in `cwd` and returns its trimmed stdout; throws with git's stderr when it fails. */
export async function git(cwd: string, ...args: string[]): Promise<string> {
  const { stdout } = await exec('git', args, { cwd, env: { ...process.env, ...GIT_ENV } });
  return stdout.trim();
}

/** Writes `files` into `dir` (replacing what is there) and commits them; returns the new commit's SHA. */
export async function commit(
  dir: string,
  files: Record<string, RepoFile>,
  message = 'change',
): Promise<string> {
  for (const [path, content] of Object.entries(files)) {
    const full = join(dir, path);
    await mkdir(dirname(full), { recursive: true });
    await rm(full, { force: true });
    if (typeof content === 'string') await writeFile(full, content);
    else await symlink(content.symlink, full);
  }
  await git(dir, 'add', '-A');
  await git(dir, 'commit', '-q', '--allow-empty', '-m', message);
  return git(dir, 'rev-parse', 'HEAD');
}
