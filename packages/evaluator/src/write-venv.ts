import { mkdir, symlink, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { PythonInterpreter } from './python-interpreter.ts';

/**
 * Write a virtual environment without pip at `dir`, as `python3 -m venv --without-pip --symlinks`
 * lays it out on POSIX (PEP 405): `pyvenv.cfg` naming the interpreter's home, `bin/python*`
 * linking to the interpreter, an empty `lib/pythonX.Y/site-packages` (and `lib64` → `lib`).
 * No activate scripts: evalbot sets `VIRTUAL_ENV` and PATH itself. Written directly, a job's
 * layer costs a few milliseconds; `python3 -m venv` cost ~0.1 s of CPU per job.
 */
export async function writeVenv(dir: string, python: PythonInterpreter): Promise<void> {
  const bin = join(dir, 'bin');
  await mkdir(join(dir, 'lib', `python${python.minor}`, 'site-packages'), { recursive: true });
  await mkdir(bin, { recursive: true });
  await mkdir(join(dir, 'include'), { recursive: true });
  await symlink('lib', join(dir, 'lib64'));
  await writeFile(
    join(dir, 'pyvenv.cfg'),
    [
      `home = ${dirname(python.executable)}`,
      'include-system-site-packages = false',
      `version = ${python.version}`,
      `executable = ${python.executable}`,
      '',
    ].join('\n'),
  );
  await symlink(python.executable, join(bin, 'python'));
  await symlink('python', join(bin, 'python3'));
  await symlink('python', join(bin, `python${python.minor}`));
}
