import { createHash } from 'node:crypto';
import { chmod, lstat, mkdtemp, readdir, readFile, readlink, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { commit, fakeTrainer, git, type RepoFile } from '@evalbot/test-utils';
import { execa, type Options } from 'execa';
import { afterAll, afterEach, beforeAll, expect } from 'vitest';
import { type EvaluateCommitOptions, type EvaluateResult, evaluateCommit } from '../src/index.ts';
import { liveGroupMembers } from '../src/process-group.ts';

// The git helpers are test-utils'; re-exported so the evaluator's tests import one file.
export { commit, git, type RepoFile } from '@evalbot/test-utils';

/** A directory of its own; traversable (not listable) by others, as the sandbox's uids must reach work and cache roots. */
export async function tempDir(prefix: string): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), `evalbot-test-${prefix}-`));
  await chmod(dir, 0o711);
  return dir;
}

/** A new git repository with one commit of `files`. */
export async function makeRepo(files: Record<string, RepoFile>): Promise<{ dir: string; sha: string }> {
  const dir = await tempDir('repo');
  await git(dir, 'init', '-q', '-b', 'main', '.');
  return { dir, sha: await commit(dir, files, 'initial') };
}

/** Registers an afterEach that removes the directories given to the returned function. */
export function removedAfterEach(): (...dirs: string[]) => void {
  const dirs: string[] = [];
  afterEach(async () => {
    for (const dir of dirs.splice(0)) await rm(dir, { recursive: true, force: true });
  });
  return (...more) => {
    dirs.push(...more);
  };
}

/**
 * The calling file's environment cache, `path` set from its first beforeAll on: EVALBOT_CACHE_DIR
 * when set (so a run reuses the environments of the last), else a new directory removed after
 * the file's tests.
 */
export function fileCacheDir(): { path: string } {
  const cache = { path: '' };
  beforeAll(async () => {
    cache.path = process.env.EVALBOT_CACHE_DIR ?? (await tempDir('cache'));
  });
  afterAll(async () => {
    if (!process.env.EVALBOT_CACHE_DIR && cache.path) await rm(cache.path, { recursive: true, force: true });
  });
  return cache;
}

/** `evaluateCommit` options but the source; `side` defaults to head, `workRoot` to a new directory. */
export type EvaluateFilesOptions = Omit<EvaluateCommitOptions, 'source' | 'side' | 'workRoot'> &
  Partial<Pick<EvaluateCommitOptions, 'side' | 'workRoot'>>;

/**
 * Evaluate a new local repository holding `files`, in a new work root, and check that work root
 * is left empty. Both directories are handed to `remove` (see `removedAfterEach`).
 */
export async function evaluateFiles(
  files: Record<string, RepoFile>,
  options: EvaluateFilesOptions,
  remove: (...dirs: string[]) => void,
): Promise<EvaluateResult> {
  const repo = await makeRepo(files);
  const workRoot = await tempDir('work');
  remove(repo.dir, workRoot);
  const result = await evaluateCommit({
    source: { path: repo.dir, sha: repo.sha },
    side: 'head',
    workRoot,
    ...options,
  });
  expect(await leftovers(workRoot)).toEqual([]);
  return result;
}

/** fixtures/evaluate-in-child.ts: `evaluateCommit` of `repo` in a Node process of its own, as a worker. */
export function evaluateInChild<O extends Options = Record<never, never>>(
  repo: { dir: string; sha: string },
  workRoot: string,
  cacheDir: string,
  options?: O,
) {
  const fixture = join(import.meta.dirname, 'fixtures', 'evaluate-in-child.ts');
  return execa('node', ['--import', 'tsx', fixture, repo.dir, repo.sha, workRoot, cacheDir], options);
}

/** A model that trains instantly: its loss follows EVALBOT_SEED (0.25 + seed / 1000). */
export const FAKE_DEMO = fakeTrainer({ accuracy: 0.9, loss: 0.25, seededLoss: true });

export const FAKE_MODEL: Record<string, RepoFile> = {
  'demo.py': FAKE_DEMO,
  'requirements.txt': '# no packages\n',
};

/** Entries left in a work root: it must be empty after every evaluation. */
export async function leftovers(workRoot: string): Promise<string[]> {
  return readdir(workRoot).catch(() => []);
}

/** Live members of a process group. */
export async function groupMembers(pgid: number): Promise<number[]> {
  return (await liveGroupMembers(pgid)).map((m) => m.pid);
}

/** PIP_* of the test run, so pip uses the machine's local indexes. */
export function pipEnv(): Record<string, string> {
  return Object.fromEntries(
    Object.entries(process.env).filter(([k, v]) => k.startsWith('PIP_') && v),
  ) as Record<string, string>;
}

/**
 * A pip index (`file://…/simple`) under `dir` that serves only a fake `name==version`: a
 * module whose `POISONED` is true, as an attacker's index would.
 */
export async function makeFakeIndex(dir: string, name: string, version: string): Promise<string> {
  const script = `import pathlib, sys, zipfile
root, name, version = pathlib.Path(sys.argv[1]), sys.argv[2], sys.argv[3]
wheel = f"{name}-{version}-py3-none-any.whl"
info = f"{name}-{version}.dist-info"
with zipfile.ZipFile(root / wheel, "w") as z:
    z.writestr(f"{name}.py", f"__version__ = {version!r}\\nPOISONED = True\\n")
    z.writestr(f"{info}/METADATA", f"Metadata-Version: 2.1\\nName: {name}\\nVersion: {version}\\n")
    z.writestr(f"{info}/WHEEL", "Wheel-Version: 1.0\\nGenerator: evalbot-test\\nRoot-Is-Purelib: true\\nTag: py3-none-any\\n")
    z.writestr(f"{info}/RECORD", "".join(f"{p},,\\n" for p in [f"{name}.py", f"{info}/METADATA", f"{info}/WHEEL", f"{info}/RECORD"]))
(root / "simple" / name).mkdir(parents=True)
(root / "simple" / name / "index.html").write_text(f'<a href="../../{wheel}">{wheel}</a>\\n')
`;
  await execa('python3', ['-c', script, dir, name, version]);
  return `file://${dir}/simple`;
}

/**
 * Every entry of a tree, one line each: path, mode, owner, size (with `times`, the mtime of what
 * is not a directory) and the content's hash or the symlink's target — to show a tree unchanged.
 */
export async function treeSnapshot(dir: string, opts: { times?: boolean } = {}): Promise<string[]> {
  const out: string[] = [];
  const walk = async (path: string, rel: string): Promise<void> => {
    for (const entry of (await readdir(path, { withFileTypes: true })).sort((a, b) =>
      a.name < b.name ? -1 : 1,
    )) {
      const full = join(path, entry.name);
      const info = await lstat(full);
      const what = entry.isSymbolicLink()
        ? `-> ${await readlink(full)}`
        : entry.isFile()
          ? createHash('sha256')
              .update(await readFile(full))
              .digest('hex')
          : 'dir';
      const time = opts.times ? ` ${entry.isDirectory() ? '' : info.mtimeMs}` : '';
      out.push(
        `${rel}${entry.name} ${info.mode.toString(8)} ${info.uid}:${info.gid} ${info.size}${time} ${what}`,
      );
      if (entry.isDirectory()) await walk(full, `${rel}${entry.name}/`);
    }
  };
  await walk(dir, '');
  return out;
}
