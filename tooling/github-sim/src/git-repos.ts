import { spawn } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';

/** Who a commit is by. */
export interface GitAuthor {
  name: string;
  email: string;
}

/** File changes for a commit: content to write, or `null` to delete the path. */
export type FileChanges = Record<string, string | Buffer | null>;

const DEFAULT_AUTHOR: GitAuthor = { name: 'Sim Author', email: 'author@sim.invalid' };

/** Real git on bare repositories: how the sim hosts repositories and writes their commits and refs. */
export interface GitRepos {
  init(gitDir: string, defaultBranch: string): Promise<void>;
  /** Commit `files` on top of `parent` (null: a root commit) and return the new commit's SHA. */
  commitFiles(
    gitDir: string,
    opts: { parent: string | null; files: FileChanges; message: string; author?: GitAuthor },
  ): Promise<string>;
  /** Commit a snapshot of a directory's files (its `.gitignore` honoured, plus `exclude` patterns). */
  commitDirectory(
    gitDir: string,
    opts: { dir: string; parent: string | null; message: string; author?: GitAuthor; exclude?: string[] },
  ): Promise<string>;
  /** Push `ref` of a local repository to `branch` of the bare one (history kept); returns the SHA. */
  pushLocal(gitDir: string, opts: { dir: string; ref: string; branch: string }): Promise<string>;
  setRef(gitDir: string, ref: string, sha: string): Promise<void>;
  deleteRef(gitDir: string, ref: string): Promise<void>;
  /** Copy `sourceRef` of another bare repository into `targetRef` (fork heads become refs/pull/N/head). */
  fetchRef(gitDir: string, fromGitDir: string, sourceRef: string, targetRef: string): Promise<void>;
  commitExists(gitDir: string, sha: string): Promise<boolean>;
}

export function createGitRepos(): GitRepos {
  return {
    async init(gitDir, defaultBranch) {
      await mkdir(dirname(gitDir), { recursive: true });
      await git(['init', '--quiet', '--bare', `--initial-branch=${defaultBranch}`, gitDir]);
      // So that a worker can fetch one exact commit (`git fetch --depth 1 origin <sha>`).
      for (const [key, value] of [
        ['uploadpack.allowReachableSHA1InWant', 'true'],
        ['uploadpack.allowAnySHA1InWant', 'true'],
        ['uploadpack.allowTipSHA1InWant', 'true'],
        ['uploadpack.allowFilter', 'true'],
        ['http.receivepack', 'false'],
      ] as const) {
        await git(['config', key, value], { gitDir });
      }
    },

    async commitFiles(gitDir, opts) {
      return withTempIndex(async (env, tmp) => {
        if (opts.parent) await git(['read-tree', `${opts.parent}^{tree}`], { gitDir, env });
        const entries = Object.entries(opts.files);
        const written = entries.filter((entry): entry is [string, string | Buffer] => entry[1] !== null);
        const paths = await Promise.all(
          written.map(async ([, content], i) => {
            const path = join(tmp, `blob-${i}`);
            await writeFile(path, content);
            return path;
          }),
        );
        const shas =
          paths.length > 0
            ? (
                await git(['hash-object', '-w', '--stdin-paths'], { gitDir, input: `${paths.join('\n')}\n` })
              ).split('\n')
            : [];
        const lines = entries.map(([path, content]) => {
          if (content === null) return `0 ${'0'.repeat(40)}\t${path}`;
          const sha = shas[written.findIndex(([p]) => p === path)];
          return `100644 ${sha}\t${path}`;
        });
        if (lines.length > 0)
          await git(['update-index', '--index-info'], { gitDir, env, input: `${lines.join('\n')}\n` });
        return commitIndex(gitDir, env, opts.parent, opts.message, opts.author);
      });
    },

    async commitDirectory(gitDir, opts) {
      return withTempIndex(async (env, tmp) => {
        const excludes = join(tmp, 'exclude');
        await writeFile(excludes, `${(opts.exclude ?? []).join('\n')}\n`);
        await git(['-c', `core.excludesFile=${excludes}`, `--work-tree=${opts.dir}`, 'add', '--all', '.'], {
          gitDir,
          env,
          cwd: opts.dir,
        });
        return commitIndex(gitDir, env, opts.parent, opts.message, opts.author);
      });
    },

    async pushLocal(gitDir, opts) {
      await git(['push', '--quiet', '--force', gitDir, `${opts.ref}:refs/heads/${opts.branch}`], {
        cwd: opts.dir,
      });
      return git(['rev-parse', `refs/heads/${opts.branch}`], { gitDir });
    },

    async setRef(gitDir, ref, sha) {
      await git(['update-ref', ref, sha], { gitDir });
    },

    async deleteRef(gitDir, ref) {
      await git(['update-ref', '-d', ref], { gitDir });
    },

    async fetchRef(gitDir, fromGitDir, sourceRef, targetRef) {
      await git(['fetch', '--quiet', '--no-tags', fromGitDir, `+${sourceRef}:${targetRef}`], { gitDir });
    },

    async commitExists(gitDir, sha) {
      if (!/^[0-9a-f]{40}$/.test(sha)) return false;
      try {
        await git(['cat-file', '-e', `${sha}^{commit}`], { gitDir });
        return true;
      } catch {
        return false;
      }
    },
  };
}

async function commitIndex(
  gitDir: string,
  env: Record<string, string>,
  parent: string | null,
  message: string,
  author: GitAuthor = DEFAULT_AUTHOR,
): Promise<string> {
  const tree = await git(['write-tree'], { gitDir, env });
  const args = ['commit-tree', tree, '-m', message, ...(parent ? ['-p', parent] : [])];
  return git(args, {
    gitDir,
    env: {
      ...env,
      GIT_AUTHOR_NAME: author.name,
      GIT_AUTHOR_EMAIL: author.email,
      GIT_COMMITTER_NAME: author.name,
      GIT_COMMITTER_EMAIL: author.email,
    },
  });
}

async function withTempIndex<T>(fn: (env: Record<string, string>, tmp: string) => Promise<T>): Promise<T> {
  const tmp = await mkdtemp(join(tmpdir(), 'github-sim-index-'));
  try {
    return await fn({ GIT_INDEX_FILE: join(tmp, 'index') }, tmp);
  } finally {
    await rm(tmp, { recursive: true, force: true });
  }
}

/** Run git hermetically (no user or system config) and return its trimmed stdout. */
export function git(
  args: string[],
  opts: { gitDir?: string; cwd?: string; env?: Record<string, string>; input?: string } = {},
): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn('git', opts.gitDir ? [`--git-dir=${opts.gitDir}`, ...args] : args, {
      cwd: opts.cwd,
      env: {
        PATH: process.env.PATH ?? '/usr/bin:/bin',
        HOME: tmpdir(),
        GIT_CONFIG_NOSYSTEM: '1',
        GIT_CONFIG_GLOBAL: '/dev/null',
        GIT_TERMINAL_PROMPT: '0',
        ...opts.env,
      },
      stdio: [opts.input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'],
    });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout?.on('data', (chunk: Buffer) => out.push(chunk));
    child.stderr?.on('data', (chunk: Buffer) => err.push(chunk));
    child.once('error', reject);
    child.once('close', (code) => {
      if (code === 0) resolve(Buffer.concat(out).toString('utf8').trim());
      else
        reject(new Error(`git ${args[0]} failed (${code}): ${Buffer.concat(err).toString('utf8').trim()}`));
    });
    if (opts.input !== undefined && child.stdin) {
      // git may exit before reading everything (e.g. on an error); its exit code tells what happened.
      child.stdin.on('error', () => {});
      child.stdin.end(opts.input);
    }
  });
}
