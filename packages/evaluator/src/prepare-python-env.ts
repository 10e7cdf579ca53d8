import { lstat, mkdir, readlink, realpath, stat, writeFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import type { RepoConfig } from '@evalbot/repo-config';
import { type ClosestEnv, copyEnv, findClosestEnv, keyLinesOf, linkEnv } from './derive-venv.ts';
import { createVenvAsWorker, downloaderVenv, downloadWheels } from './download-wheels.ts';
import {
  type EvictionResult,
  evictToBound,
  leaseEnv,
  readEnvRecord,
  touchEnv,
  treeBytes,
  writeEnvRecord,
} from './env-cache-index.ts';
import { chownTree, denyWritesByOthers, removeTree } from './file-tree.ts';
import { planRequirements, type RequirementsPlan } from './plan-requirements.ts';
import type { PythonInterpreter } from './python-interpreter.ts';
import { type RunStep, type StepFailure, stepFailure } from './step.ts';
import { ensureCachedVenv, venvKey } from './venv-cache.ts';
import { writeVenv } from './write-venv.ts';

export interface PythonEnv {
  /** `VIRTUAL_ENV` of the job: a thin venv of its own on top of the cached one. */
  virtualEnv: string;
  /** Prepended to PATH, most specific first. */
  binDirs: string[];
  /** True when the (cached) environment with the requirements already existed. */
  reused: boolean;
  /** The shared environment the job's layer chains to (its real path), when there is one. */
  sharedDir?: string;
  /** The cached environment this one was derived from (copied, only the difference installed). */
  derivedFrom?: string;
  /** Ends the job's lease on the shared environment (eviction leaves a leased one alone). */
  release: () => Promise<void>;
}

export interface PreparePythonEnvOptions {
  python: PythonInterpreter;
  cacheDir: string;
  checkout: string;
  /** The job's own venv goes here (must not exist). */
  jobVenv: string;
  /** Wheels the worker downloads for this job go here (the sandbox reads them, read-only). */
  wheelsDir: string;
  config: RepoConfig;
  runStep: RunStep;
  /** PR code's environment for a given venv (`VIRTUAL_ENV`, PATH): with the repository's `env`. */
  envFor: (virtualEnv: string, binDirs: string[]) => Record<string, string>;
  /**
   * The environment of evalbot's own steps and of the shared environment's build: the
   * worker's settings only, never the repository's `env` (see `jobSandboxEnvs`).
   */
  sharedEnvFor: (virtualEnv: string, binDirs: string[]) => Record<string, string>;
  /**
   * The worker's own pip settings for downloading wheels (its HOME and pip.conf, PIP_*,
   * proxies), outside the sandbox: evalbot installs wherever the operator's `pip install` works.
   */
  downloadEnv: Record<string, string>;
  /** Who PR code runs as (a root worker's per-job uid): what it builds must be its own. */
  owner?: { uid: number; gid: number } | undefined;
  deadline: number;
  signal?: AbortSignal | undefined;
  note: (line: string) => void;
  /**
   * Whether the shared environment was in the cache (`hit`), derived from the closest cached one
   * (`derived`) or built from nothing (`miss`); not called for a job-only environment.
   */
  onEnvironmentCache?: ((result: 'hit' | 'derived' | 'miss') => void) | undefined;
  /** Bound of the cached environments in bytes (0 or absent: none), enforced after each build. */
  cacheMaxBytes?: number | undefined;
  /** The cache's size after a build and its eviction. */
  onCacheSize?: ((result: EvictionResult & { maxBytes: number }) => void) | undefined;
}

/**
 * Give the job a Python environment with its requirements installed. The worker downloads
 * the requirements as wheels (no package code runs) and the sandbox installs them offline
 * into a virtual environment cached per (interpreter, requirements) and shared by jobs and
 * workers; the job gets a thin venv of its own layered on it (a `.pth` file), so `pip install`
 * in `setup` lands in the job's layer and never changes the shared one. Requirements that
 * name local projects are installed into the job's own venv, uncached.
 */
export async function preparePythonEnv(
  opts: PreparePythonEnvOptions,
): Promise<{ ok: true; env: PythonEnv } | { ok: false; failure: StepFailure }> {
  const plan = await readPlan(opts);
  if ('kind' in plan) return { ok: false, failure: plan };
  const keyLines = keyLinesOf(plan);

  if (plan.local) {
    opts.note('evalbot: the requirements name local projects or files; installing them for this job only');
    const built = await buildVenv(opts, opts.jobVenv, plan, false);
    if (!built.ok) return { ok: false, failure: built.failure };
    return {
      ok: true,
      env: {
        virtualEnv: opts.jobVenv,
        binDirs: [join(opts.jobVenv, 'bin')],
        reused: false,
        release: async () => {},
      },
    };
  }

  const venvsDir = join(opts.cacheDir, 'venvs');
  await mkdir(venvsDir, { recursive: true });
  const key = venvKey(opts.python, keyLines);
  const python = { executable: opts.python.executable, version: opts.python.version };
  let derivedFrom: string | undefined;
  // A job leases the environment before it checks it is still published, so eviction either
  // sees the lease or the job sees the environment gone and looks again (evictToBound).
  for (let attempt = 0; ; attempt++) {
    const cached = await ensureCachedVenv<StepFailure>({
      venvsDir,
      key,
      build: async (dir) => {
        const closest = await findClosestEnv(venvsDir, python, plan);
        if (closest) {
          const release = await leaseEnv(venvsDir, closest.key);
          try {
            const derived = await buildVenv(opts, dir, plan, true, closest);
            if (derived.ok) {
              derivedFrom = closest.key;
              await writeEnvRecord(venvsDir, key, {
                python,
                lines: keyLines,
                bytes: await treeBytes(dir),
                ...(derived.linked ? { linked: true } : {}),
              });
              return derived;
            }
            if (derived.failure.kind !== 'failed') return derived;
            opts.note(
              // Other repositories' keys stay out of what the PR sees (the worker's log names them).
              'evalbot: could not derive the environment from a cached one; building it from nothing',
            );
            await removeTree(dir);
          } finally {
            await release();
          }
        }
        const built = await buildVenv(opts, dir, plan, true);
        if (built.ok)
          await writeEnvRecord(venvsDir, key, { python, lines: keyLines, bytes: await treeBytes(dir) });
        return built;
      },
      deadline: opts.deadline,
      signal: opts.signal,
      onWait: (holder) => opts.note(`evalbot: waiting for ${holder} to finish building the same environment`),
    });
    if (cached.status === 'cancelled') return { ok: false, failure: { kind: 'cancelled' } };
    if (cached.status === 'timed-out') {
      return { ok: false, failure: { kind: 'timed-out', command: 'waiting for the shared environment' } };
    }
    if (cached.status === 'failed') return { ok: false, failure: cached.failure };

    const release = await leaseEnv(venvsDir, key);
    const stillPublished = await readlink(join(venvsDir, key)).then(
      (target) => target === basename(cached.dir),
      () => false,
    );
    if (!stillPublished && attempt < 3) {
      await release();
      continue;
    }
    if (cached.reused) {
      // Environments published before records were kept get their lines now (eviction may have
      // measured one already, without them), so they can be derived from.
      const record = await readEnvRecord(venvsDir, key);
      if (!record?.lines) {
        await writeEnvRecord(venvsDir, key, {
          python,
          lines: keyLines,
          bytes: record?.bytes ?? (await treeBytes(cached.dir)),
        });
      }
      await touchEnv(venvsDir, key);
    } else {
      const maxBytes = opts.cacheMaxBytes ?? 0;
      const evicted = await evictToBound(venvsDir, maxBytes, [key]);
      if (evicted.evicted.length > 0) {
        opts.note(
          `evalbot: removed ${evicted.evicted.length} least recently used cached environment(s) (cache bound)`,
        );
      }
      opts.onCacheSize?.({ ...evicted, maxBytes });
    }
    opts.note(
      cached.reused
        ? `evalbot: reusing the cached environment ${key}`
        : derivedFrom
          ? `evalbot: derived the cached environment ${key} from a cached one`
          : `evalbot: built the cached environment ${key}`,
    );
    opts.onEnvironmentCache?.(cached.reused ? 'hit' : derivedFrom ? 'derived' : 'miss');

    const sharedDir = await realpath(cached.dir);
    await createJobLayer(opts, sharedDir);
    return {
      ok: true,
      env: {
        virtualEnv: opts.jobVenv,
        binDirs: [join(opts.jobVenv, 'bin'), join(sharedDir, 'bin')],
        reused: cached.reused,
        sharedDir,
        ...(derivedFrom && !cached.reused ? { derivedFrom } : {}),
        release,
      },
    };
  }
}

async function readPlan(opts: PreparePythonEnvOptions): Promise<RequirementsPlan | StepFailure> {
  const file = opts.config.requirements;
  const none: RequirementsPlan = { download: [], constraints: [], pre: false, local: false };
  if (file === false) return none;
  const exists = await lstat(join(opts.checkout, file)).then(
    () => true,
    () => false,
  );
  if (!exists) {
    opts.note(`evalbot: no ${file} in this commit; no packages to install`);
    return none;
  }
  const planned = await planRequirements(opts.checkout, file);
  return planned.ok ? planned.plan : { kind: 'failed', message: planned.message };
}

/**
 * `python -m venv` and the wheel download (trusted: as the worker, outside the sandbox), then
 * `pip install` offline in the sandbox, as the job's uid. A `shared` environment installs the
 * worker's copy of the requirements and is handed back to the worker afterwards (read-only to
 * every job); a job's own installs the checkout's file, local projects included.
 *
 * `from` a cached environment: hard links to it (`linkEnv`) or a copy (`copyEnv`) instead of a new venv, only the
 * requirement lines it lacks downloaded, and the same offline install, which leaves what the
 * copy already satisfies alone — a changed requirement costs its own packages, not a rebuild.
 */
async function buildVenv(
  opts: PreparePythonEnvOptions,
  dir: string,
  plan: RequirementsPlan,
  shared: boolean,
  from?: ClosestEnv,
): Promise<{ ok: true; linked?: boolean } | { ok: false; failure: StepFailure }> {
  if (from) {
    // Hard links when the job runs as a uid of its own (a root worker): it cannot write the
    // shared inodes. A worker whose jobs run as itself copies.
    const linked = opts.owner ? await linkEnv(from.dir, dir, opts.owner) : false;
    if (!linked) await copyEnv(from.dir, dir);
    opts.note(
      `evalbot: deriving the environment from a cached one: ${linked ? 'linked' : 'copied'} it, then installing ${from.missing.length} changed requirement(s)`,
    );
    return installInto(
      opts,
      dir,
      { ...plan, download: from.missing },
      plan,
      shared,
      await downloaderVenv(opts),
      linked,
    );
  }
  const createFailed = await createVenvAsWorker(opts, dir);
  if (createFailed) return { ok: false, failure: createFailed };
  if (plan.download.length === 0 && !plan.local) return handBack(opts, dir, shared);
  return installInto(opts, dir, plan, plan, shared, dir);
}

/**
 * Download `toDownload`'s wheels with the pip of `downloader` (a venv no sandboxed step ever
 * wrote), then install all of `plan` offline in the sandbox.
 */
async function installInto(
  opts: PreparePythonEnvOptions,
  dir: string,
  toDownload: RequirementsPlan,
  plan: RequirementsPlan,
  shared: boolean,
  downloader: string,
  linked = false,
): Promise<{ ok: true; linked?: boolean } | { ok: false; failure: StepFailure }> {
  await mkdir(opts.wheelsDir, { recursive: true });
  // Validated specifiers only (plan-requirements.ts): these files hold no pip option.
  const requirementsCopy = join(opts.wheelsDir, 'requirements.txt');
  const constraintsCopy = join(opts.wheelsDir, 'constraints.txt');
  // The worker's own pip reads these: each line must be the one specifier it was checked as
  // (printable ASCII, so nothing pip splits on), whatever planRequirements let through.
  for (const line of [...plan.download, ...plan.constraints]) {
    if (!/^[\x20-\x7e\t]+$/.test(line))
      throw new Error(`refusing to hand pip the line ${JSON.stringify(line)}`);
  }
  await writeFile(requirementsCopy, `${plan.download.join('\n')}\n`);
  await writeFile(constraintsCopy, `${plan.constraints.join('\n')}\n`);
  if (toDownload.download.length > 0) {
    const downloaded = await downloadWheels(opts, downloader, toDownload, constraintsCopy);
    if (!downloaded.ok) return downloaded;
  }

  // A linked environment's directories are the job's already; its files stay the worker's.
  if (opts.owner && !linked) await chownTree(dir, opts.owner);
  const file = shared ? requirementsCopy : join(opts.checkout, String(opts.config.requirements));
  const label = `pip install -r ${opts.config.requirements}`;
  const install = await opts.runStep({
    // umask 022: the environment must stay readable once it is handed back to the worker.
    argv: [
      'sh',
      '-c',
      'umask 022 && exec "$@"',
      'sh',
      join(dir, 'bin', 'python'),
      // -I: not the checkout's `pip/` package first on sys.path, with the environment writable.
      '-I',
      '-m',
      'pip',
      'install',
      '--no-index',
      '--find-links',
      opts.wheelsDir,
      ...(plan.pre ? ['--pre'] : []),
      // Local projects build offline with what the environment has (setuptools, wheel).
      ...(plan.local ? ['--no-build-isolation'] : []),
      '-r',
      file,
      '-c',
      constraintsCopy,
    ],
    label,
    // A shared build reads only the worker's files; a job's own resolves `-e .` from the checkout.
    cwd: shared ? opts.wheelsDir : opts.checkout,
    env: (shared ? opts.sharedEnvFor : opts.envFor)(dir, [join(dir, 'bin')]),
    writable: [dir],
  });
  const installFailed = stepFailure(label, install);
  if (installFailed) return { ok: false, failure: installFailed };
  await handBack(opts, dir, shared);
  return { ok: true, linked };
}

/** A shared environment becomes the worker's; a job's own stays the job's (it was built as it). */
async function handBack(opts: PreparePythonEnvOptions, dir: string, shared: boolean): Promise<{ ok: true }> {
  if (shared && opts.owner && process.getuid && process.getgid) {
    // Later jobs run as other uids and see it read-only; even so, nothing of it stays theirs.
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
  if (opts.owner) await chownTree(opts.jobVenv, opts.owner);
}
