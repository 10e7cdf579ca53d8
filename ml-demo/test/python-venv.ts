import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface Finished {
  code: number | null;
  stdout: string;
  stderr: string;
  ms: number;
}

/** Runs a command to its end and returns its exit code and output; never throws for a failing command. */
export function runCommand(
  command: string,
  args: string[],
  options: { cwd: string; env?: NodeJS.ProcessEnv; timeoutMs?: number },
): Promise<Finished> {
  const started = performance.now();
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, {
      cwd: options.cwd,
      env: options.env ?? process.env,
      stdio: ['ignore', 'pipe', 'pipe'],
      timeout: options.timeoutMs ?? 300_000,
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      stdout += chunk;
    });
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
      stderr += chunk;
    });
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr, ms: performance.now() - started }));
  });
}

export interface PythonVenv {
  python: string;
  /** Removes the environment unless it lives in the shared cache. */
  dispose(): Promise<void>;
}

/**
 * A virtual environment with `requirementsFile` installed. With `cacheRoot` (the test run's
 * EVALBOT_CACHE_DIR) it is kept under `<cacheRoot>/ml-demo-test-venv/<hash of the file>` and
 * reused by later runs; otherwise it is made in the temp dir and removed by `dispose`.
 */
export async function preparePythonVenv(requirementsFile: string, cacheRoot?: string): Promise<PythonVenv> {
  const hash = createHash('sha256')
    .update(await readFile(requirementsFile))
    .digest('hex')
    .slice(0, 16);
  let dir: string;
  if (cacheRoot) {
    const parent = join(cacheRoot, 'ml-demo-test-venv');
    await mkdir(parent, { recursive: true });
    // Environments for older requirements are dead weight: each is ~1 GB.
    for (const entry of await readdir(parent)) {
      if (entry !== hash) await rm(join(parent, entry), { recursive: true, force: true });
    }
    dir = join(parent, hash);
  } else {
    dir = await mkdtemp(join(tmpdir(), 'ml-demo-venv-'));
  }
  const python = join(dir, 'bin', 'python');
  const dispose = cacheRoot ? async () => {} : () => rm(dir, { recursive: true, force: true });
  // Written last: an install cut short is redone rather than reused half-made.
  const readyMarker = join(dir, '.evalbot-ready');
  if (existsSync(readyMarker)) return { python, dispose };

  await rm(dir, { recursive: true, force: true });
  const steps: [string, string[]][] = [
    ['python3', ['-m', 'venv', dir]],
    [python, ['-m', 'pip', 'install', '--disable-pip-version-check', '-q', '-r', requirementsFile]],
  ];
  for (const [command, args] of steps) {
    const step = await runCommand(command, args, { cwd: tmpdir(), timeoutMs: 600_000 });
    if (step.code !== 0) {
      await dispose();
      throw new Error(
        `${command} ${args.join(' ')} failed (exit ${step.code}):\n${step.stderr}${step.stdout}`,
      );
    }
  }
  await writeFile(readyMarker, `${requirementsFile}\n`);
  return { python, dispose };
}
