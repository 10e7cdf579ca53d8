import { mkdir, realpath, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { RepoConfig } from '@evalbot/repo-config';
import { chownTree, denyWritesByOthers } from './file-tree.ts';
import type { PythonInterpreter } from './python-interpreter.ts';
import { readFileInside, UnsafeFileError } from './read-file-inside.ts';
import type { RunAsUser } from './run-sandboxed.ts';
import { type RunStep, type StepFailure, stepFailure } from './step.ts';
import { ensureCachedVenv, isCacheableRequirements, requirementLines, venvKey } from './venv-cache.ts';
import { writeVenv } from './write-venv.ts';

const MAX_REQUIREMENTS_BYTES = 1024 * 1024;

export interface PythonEnv {
  /** `VIRTUAL_ENV` of the job: a thin venv of its own on top of the cached one. */
  virtualEnv: string;
  /** Prepended to PATH, most specific first. */
  binDirs: string[];
  /** True when the (cached) environment with the requirements already existed. */
  reused: boolean;
  /** The shared environment the job's layer chains to (its real path), when there is one. */
  sharedDir?: string;
}

export interface PreparePythonEnvOptions {
  python: PythonInterpreter;
  cacheDir: string;
  checkout: string;
  /** The job's own venv goes here (must not exist). */
  jobVenv: string;
  config: RepoConfig;
  runStep: RunStep;
  /** PR code's environment for a given venv (`VIRTUAL_ENV`, PATH): with the repository's `env`. */
  envFor: (virtualEnv: string, binDirs: string[]) => Record<string, string>;
  /**
   * The environment of evalbot's own steps and of the shared environment's build: the
   * worker's settings only, never the repository's `env` (see `jobSandboxEnvs`).
   */
  sharedEnvFor: (virtualEnv: string, binDirs: string[]) => Record<string, string>;
  user?: RunAsUser | undefined;
  deadline: number;
  signal?: AbortSignal | undefined;
  note: (line: string) => void;
}

/**
 * Give the job a Python environment with its requirements installed. The requirements go
 * into a virtual environment cached per (interpreter, requirements bytes) and shared by jobs
 * and workers; the job gets a thin venv of its own layered on it (a `.pth` file), so `pip
 * install` in `setup` lands in the job's layer and never changes the shared one.
 * Requirements that reference other files are installed into the job's own venv, uncached.
 */
export async function preparePythonEnv(
  opts: PreparePythonEnvOptions,
): Promise<{ ok: true; env: PythonEnv } | { ok: false; failure: StepFailure }> {
  const requirements = await readRequirements(opts);
  if (typeof requirements !== 'string') return { ok: false, failure: requirements };

  if (!isCacheableRequirements(requirements)) {
    opts.note(
      'evalbot: the requirements reference other files or local paths; installing them for this job only',
    );
    const built = await buildVenv(opts, opts.jobVenv, requirements, false);
    if (!built.ok) return { ok: false, failure: built.failure };
    return {
      ok: true,
      env: { virtualEnv: opts.jobVenv, binDirs: [join(opts.jobVenv, 'bin')], reused: false },
    };
  }

  await mkdir(join(opts.cacheDir, 'venvs'), { recursive: true });
  const key = venvKey(opts.python, requirements);
  const cached = await ensureCachedVenv<StepFailure>({
    venvsDir: join(opts.cacheDir, 'venvs'),
    key,
    build: (dir) => buildVenv(opts, dir, requirements, true),
    deadline: opts.deadline,
    signal: opts.signal,
    onWait: (holder) => opts.note(`evalbot: waiting for ${holder} to finish building the same environment`),
  });
  if (cached.status === 'cancelled') return { ok: false, failure: { kind: 'cancelled' } };
  if (cached.status === 'timed-out') {
    return { ok: false, failure: { kind: 'timed-out', command: 'waiting for the shared environment' } };
  }
  if (cached.status === 'failed') return { ok: false, failure: cached.failure };
  opts.note(`evalbot: ${cached.reused ? 'reusing' : 'built'} the cached environment ${key}`);

  await createJobLayer(opts, cached.dir);
  return {
    ok: true,
    env: {
      virtualEnv: opts.jobVenv,
      binDirs: [join(opts.jobVenv, 'bin'), join(cached.dir, 'bin')],
      reused: cached.reused,
      sharedDir: await realpath(cached.dir),
    },
  };
}

async function readRequirements(opts: PreparePythonEnvOptions): Promise<string | StepFailure> {
  const file = opts.config.requirements;
  if (file === false) return '';
  try {
    return await readFileInside(opts.checkout, file, MAX_REQUIREMENTS_BYTES);
  } catch (error) {
    if (!(error instanceof UnsafeFileError)) throw error;
    if (error.reason === 'missing') {
      opts.note(`evalbot: no ${file} in this commit; no packages to install`);
      return '';
    }
    return { kind: 'failed', message: `the requirements file \`${file}\` ${error.message}` };
  }
}

/**
 * `python -m venv` (trusted, as the worker) then `pip install -r` (PR input: as the run user).
 * A `shared` environment is built with the worker's pip settings alone and handed back to the
 * worker afterwards; a job's own gets the repository's `env` and stays the run user's.
 */
async function buildVenv(
  opts: PreparePythonEnvOptions,
  dir: string,
  requirements: string,
  shared: boolean,
): Promise<{ ok: true } | { ok: false; failure: StepFailure }> {
  const create = await opts.runStep({
    argv: [opts.python.executable, '-m', 'venv', dir],
    label: 'python3 -m venv',
    cwd: opts.checkout,
    env: opts.sharedEnvFor(dir, []),
    asWorker: true,
  });
  const createFailed = stepFailure('python3 -m venv', create);
  if (createFailed) return { ok: false, failure: createFailed };
  const nothingToInstall = requirementLines(requirements).length === 0;
  if (opts.user && !(nothingToInstall && shared)) await chownTree(dir, opts.user);
  if (nothingToInstall) return { ok: true };

  const label = `pip install -r ${opts.config.requirements}`;
  const install = await opts.runStep({
    // umask 022: the environment must stay readable once it is handed back to the worker.
    argv: [
      'sh',
      '-c',
      'umask 022 && exec "$@"',
      'sh',
      join(dir, 'bin', 'python'),
      '-m',
      'pip',
      'install',
      '-r',
      join(opts.checkout, String(opts.config.requirements)),
    ],
    label,
    cwd: opts.checkout,
    env: (shared ? opts.sharedEnvFor : opts.envFor)(dir, [join(dir, 'bin')]),
  });
  const installFailed = stepFailure(label, install);
  if (installFailed) return { ok: false, failure: installFailed };
  return handBack(opts, dir, shared);
}

async function handBack(opts: PreparePythonEnvOptions, dir: string, shared: boolean): Promise<{ ok: true }> {
  if (shared && opts.user && process.getuid && process.getgid) {
    // Later jobs run as the same user: they must not be able to change the shared environment.
    await chownTree(dir, { uid: process.getuid(), gid: process.getgid() });
    await denyWritesByOthers(dir);
  }
  return { ok: true };
}

/**
 * A venv without pip whose site-packages chains to the cached one, with `pip` commands that
 * run the cached pip inside this venv (so installs land here).
 */
async function createJobLayer(opts: PreparePythonEnvOptions, baseDir: string): Promise<void> {
  await writeVenv(opts.jobVenv, opts.python);
  const lib = `lib/python${opts.python.minor}/site-packages`;
  const sitePackages = join(opts.jobVenv, lib);
  const baseSitePackages = join(baseDir, lib);
  await stat(baseSitePackages);
  // addsitedir (not a bare path line) so .pth files of the cached environment are processed too.
  await writeFile(
    join(sitePackages, '_evalbot_shared_env.pth'),
    `import site; site.addsitedir(${JSON.stringify(baseSitePackages)})\n`,
  );
  const python = join(opts.jobVenv, 'bin', 'python');
  for (const name of ['pip', 'pip3', `pip${opts.python.minor}`]) {
    const path = join(opts.jobVenv, 'bin', name);
    await writeFile(path, `#!/bin/sh\nexec ${JSON.stringify(python)} -m pip "$@"\n`, { mode: 0o755 });
  }
  if (opts.user) await chownTree(opts.jobVenv, opts.user);
}
