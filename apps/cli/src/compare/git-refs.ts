import { execFile } from 'node:child_process';
import { stat } from 'node:fs/promises';
import { resolve } from 'node:path';
import { promisify } from 'node:util';
import { CliError } from '../cli-context.ts';

const run = promisify(execFile);

/** Exit code of a usage error: a path that is no repository, a ref that names no commit. */
export const USAGE_ERROR = 2;

async function git(cwd: string, args: string[]): Promise<{ ok: boolean; stdout: string; stderr: string }> {
  try {
    // The user's own git config applies (it is their repository); nothing is written.
    const { stdout, stderr } = await run('git', args, { cwd, maxBuffer: 1024 * 1024 });
    return { ok: true, stdout: stdout.trim(), stderr: stderr.trim() };
  } catch (error) {
    const failed = error as Error & { stdout?: string; stderr?: string; code?: unknown };
    if (failed.code === 'ENOENT' && failed.stderr === undefined)
      throw new CliError('git is not installed or not on PATH');
    return { ok: false, stdout: failed.stdout?.trim() ?? '', stderr: failed.stderr?.trim() ?? '' };
  }
}

/** The top directory of the git work tree at `path` (relative to `cwd`); exit 2 when there is none. */
export async function repositoryRoot(cwd: string, path: string): Promise<string> {
  const dir = resolve(cwd, path);
  const info = await stat(dir).catch(() => undefined);
  if (!info?.isDirectory()) throw new CliError(`${dir} is not a directory`, USAGE_ERROR);
  const top = await git(dir, ['rev-parse', '--show-toplevel']);
  if (!top.ok || !top.stdout)
    throw new CliError(`${dir} is not inside a git repository (git init, or pass its path)`, USAGE_ERROR);
  return top.stdout;
}

/** The commit SHA `ref` names in `repo` (a branch, tag, SHA, `HEAD~1`…); exit 2 naming the ref otherwise. */
export async function resolveCommit(repo: string, ref: string, option: string): Promise<string> {
  // A ref starting with "-" would be read as an option by rev-parse.
  const found = ref.startsWith('-')
    ? undefined
    : await git(repo, ['rev-parse', '--verify', '--quiet', `${ref}^{commit}`]);
  if (!found?.ok || !/^[0-9a-f]{40}([0-9a-f]{24})?$/.test(found.stdout))
    throw new CliError(
      `${option} ${ref}: no such commit in ${repo} (check the branch, tag or SHA; git branch -a lists them)`,
      USAGE_ERROR,
    );
  return found.stdout;
}

/** True when the work tree has changes not committed: they are not part of any ref evaluated. */
export async function hasUncommittedChanges(repo: string): Promise<boolean> {
  const status = await git(repo, ['status', '--porcelain', '--untracked-files=no']);
  return status.ok && status.stdout.length > 0;
}
