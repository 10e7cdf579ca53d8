import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { resolve } from 'node:path';
import { REPO_ROOT } from '@evalbot/local-stack';

export interface SpawnedApp {
  child: ChildProcess;
  /** The exit code, or the signal that ended it. */
  exited: Promise<number | string>;
  stdout(): string;
  stderr(): string;
  /** SIGTERM unless it has exited, then its exit. */
  stop(): Promise<number | string>;
}

/** Run an app's `src/main.ts` as `pnpm start:<app>` does, with exactly `env` (plus PATH and HOME). */
export function spawnApp(app: 'gateway' | 'worker' | 'dashboard', env: Record<string, string>): SpawnedApp {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
    cwd: resolve(REPO_ROOT, 'apps', app),
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk) => {
    stdout += chunk;
  });
  child.stderr.on('data', (chunk) => {
    stderr += chunk;
  });
  const exited = once(child, 'exit').then(([code, signal]) => (code ?? signal) as number | string);
  return {
    child,
    exited,
    stdout: () => stdout,
    stderr: () => stderr,
    stop: () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      return exited;
    },
  };
}
