import { realpath, stat } from 'node:fs/promises';
import { join, relative, sep } from 'node:path';
import {
  MAX_REPO_CONFIG_BYTES,
  parseRepoConfig,
  REPO_CONFIG_FILE,
  type RepoConfig,
  RepoConfigError,
} from '@evalbot/repo-config';
import { readFileInside, UnsafeFileError } from './read-file-inside.ts';

/**
 * The commit's `.evalbot.yml`, or the tutorial's defaults when it has none. Throws
 * {@link RepoConfigError} for an invalid file, and for one that is a symlink, not a regular
 * file or over the size limit (read before any PR code runs, so nothing can swap it).
 */
export async function readRepoConfig(checkout: string): Promise<RepoConfig> {
  let text: string | undefined;
  try {
    text = await readFileInside(checkout, REPO_CONFIG_FILE, MAX_REPO_CONFIG_BYTES);
  } catch (error) {
    if (!(error instanceof UnsafeFileError)) throw error;
    if (error.reason !== 'missing') {
      throw new RepoConfigError(REPO_CONFIG_FILE, [
        { key: '(file)', problem: error.message, fix: 'commit .evalbot.yml as a small regular file' },
      ]);
    }
  }
  return parseRepoConfig(text);
}

/**
 * The directory commands run in, checked to exist inside the checkout. Throws
 * {@link RepoConfigError} naming `working_directory` otherwise.
 */
export async function resolveWorkingDirectory(checkout: string, config: RepoConfig): Promise<string> {
  const root = await realpath(checkout);
  const problem = (text: string) =>
    new RepoConfigError(REPO_CONFIG_FILE, [
      {
        key: 'working_directory',
        problem: text,
        fix: 'name a directory of this commit, relative to the repository root',
      },
    ]);
  let dir: string;
  try {
    dir = await realpath(join(root, config.working_directory));
  } catch {
    throw problem(`\`${config.working_directory}\` does not exist in this commit`);
  }
  const rel = relative(root, dir);
  if (rel === '..' || rel.startsWith(`..${sep}`)) throw problem('resolves outside the repository');
  if (!(await stat(dir)).isDirectory()) throw problem(`\`${config.working_directory}\` is not a directory`);
  return dir;
}
