import { randomBytes } from 'node:crypto';
import { mkdir, rename, stat } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { removeTree } from './file-tree.ts';
import { LogCollector } from './log-collector.ts';
import type { RequirementsPlan } from './plan-requirements.ts';
import type { PreparePythonEnvOptions } from './prepare-python-env.ts';
import { type StepFailure, stepFailure } from './step.ts';

/**
 * `pip download --only-binary=:all:` by the worker, with the operator's pip configuration:
 * resolving and downloading wheels runs no code of any package, so the network stays with
 * the worker. A package without a wheel is named in the failure.
 */
export async function downloadWheels(
  opts: PreparePythonEnvOptions,
  venv: string,
  plan: RequirementsPlan,
  constraints: string,
): Promise<{ ok: true } | { ok: false; failure: StepFailure }> {
  const output = new LogCollector({ secrets: [], limits: { maxLines: 400 } });
  const label = `pip download -r ${opts.config.requirements} (by the worker, wheels only)`;
  opts.note(`$ ${label}`);
  const result = await opts.runStep({
    argv: [
      join(venv, 'bin', 'python'),
      '-I',
      '-m',
      'pip',
      'download',
      '--only-binary=:all:',
      // Never build anything: a source distribution's build backend is code of its own.
      '--no-build-isolation',
      '--dest',
      opts.wheelsDir,
      ...(plan.pre ? ['--pre'] : []),
      '-c',
      constraints,
      '--',
      ...plan.download,
    ],
    label,
    cwd: opts.wheelsDir,
    env: opts.downloadEnv,
    asWorker: true,
    log: output,
  });
  const tail = output.tail();
  for (const line of tail.split('\n').slice(-20)) if (line.trim()) opts.note(line);
  const failed = stepFailure(label, result);
  if (!failed) return { ok: true };
  const missing = /No matching distribution found for (\S+)/.exec(tail)?.[1];
  if (failed.kind === 'failed' && missing) {
    return {
      ok: false,
      failure: {
        kind: 'failed',
        message: `\`${missing}\` has no wheel for Python ${opts.python.version} on the worker's package indexes: evalbot installs wheels only, since building a source distribution runs its code with network access. Pin a version that publishes a wheel, or ask the operator to add one to the index`,
      },
    };
  }
  return { ok: false, failure: failed };
}

/**
 * A venv of the worker's for `pip download` when deriving an environment: a derived
 * environment's own pip must not run as the worker, since packages installed in it could have
 * replaced pip's files or added a `.pth` that runs at start-up. Made once per interpreter,
 * published by an atomic rename, never written by a sandboxed step.
 */
export async function downloaderVenv(opts: PreparePythonEnvOptions): Promise<string> {
  const dir = join(opts.cacheDir, 'pip-downloader', `py${opts.python.version}`);
  if (await stat(join(dir, 'pyvenv.cfg')).catch(() => undefined)) return dir;
  await mkdir(dirname(dir), { recursive: true });
  const building = `${dir}.tmp-${randomBytes(6).toString('hex')}`;
  const failed = await createVenvAsWorker(opts, building, 'python3 -m venv (pip downloader)');
  if (failed) {
    await removeTree(building);
    throw new Error(`could not create the worker's pip downloader venv: ${failed.kind}`);
  }
  // Another worker may have published one first: keep theirs.
  await rename(building, dir).catch(() => removeTree(building));
  return dir;
}

/**
 * `python3 -I -m venv <dir>`, run as the worker from a directory of the worker's: with `-m` and
 * without `-I`, Python would import a `venv.py` of the checkout first — outside the sandbox.
 */
export async function createVenvAsWorker(
  opts: PreparePythonEnvOptions,
  dir: string,
  label = 'python3 -m venv',
): Promise<StepFailure | undefined> {
  const create = await opts.runStep({
    argv: [opts.python.executable, '-I', '-m', 'venv', dir],
    label,
    cwd: dirname(dir),
    env: opts.sharedEnvFor(dir, []),
    asWorker: true,
  });
  return stepFailure('python3 -m venv', create);
}
