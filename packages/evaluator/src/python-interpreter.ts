import { realpath } from 'node:fs/promises';
import { dirname } from 'node:path';
import { execa } from 'execa';
import { InfrastructureError } from './infrastructure-error.ts';
import type { WorkerEnv } from './sandbox-env.ts';

export interface PythonInterpreter {
  /** The real interpreter binary (shims such as pyenv's resolved), which venvs link to. */
  executable: string;
  /** `3.11.7` */
  version: string;
  /** `3.11`, the `lib/pythonX.Y` directory of a venv. */
  minor: string;
  /** The installation's real directories (`sys.base_prefix`, the binary's): the sandbox shows them read-only. */
  installDirs: string[];
}

const resolved = new Map<string, Promise<PythonInterpreter>>();

/**
 * Find the interpreter `command` (e.g. `python3`) runs on the worker, once per process.
 * Runs with the worker's own environment: version managers' shims need it. Throws
 * {@link InfrastructureError} when there is none: the worker is missing Python.
 */
export function resolvePython(command: string, workerEnv: WorkerEnv): Promise<PythonInterpreter> {
  const cacheKey = `${command}\0${workerEnv.PATH ?? ''}`;
  let found = resolved.get(cacheKey);
  if (!found) {
    found = probe(command, workerEnv);
    resolved.set(cacheKey, found);
    found.catch(() => resolved.delete(cacheKey));
  }
  return found;
}

async function probe(command: string, workerEnv: WorkerEnv): Promise<PythonInterpreter> {
  const script =
    'import sys, platform; print(sys.executable); print(platform.python_version()); print(sys.base_prefix)';
  const result = await execa(command, ['-I', '-c', script], {
    env: Object.fromEntries(Object.entries(workerEnv).filter(([, v]) => v !== undefined)) as Record<
      string,
      string
    >,
    extendEnv: false,
    stdin: 'ignore',
    reject: false,
    timeout: 30_000,
  });
  const [executable, version, prefix] = result.stdout.trim().split('\n');
  if (result.exitCode !== 0 || !executable || !version || !/^\d+\.\d+/.test(version)) {
    throw new InfrastructureError(
      `the worker cannot run ${command} (${result.shortMessage ?? result.stderr}); install Python 3 with the venv module`,
      false,
    );
  }
  const real = await realpath(executable);
  const installDirs = new Set([dirname(real)]);
  if (prefix) installDirs.add(await realpath(prefix.trim()).catch(() => prefix.trim()));
  return {
    executable: real,
    version: version.trim(),
    minor: version.trim().split('.').slice(0, 2).join('.'),
    installDirs: [...installDirs],
  };
}
