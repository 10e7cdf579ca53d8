import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { resolve } from 'node:path';
import { REPO_ROOT, waitFor } from '@evalbot/local-stack';

export interface SpawnedApp {
  child: ChildProcess;
  /** The exit code, or the signal that ended it. */
  exited: Promise<number | string>;
  stdout(): string;
  stderr(): string;
  /** SIGTERM unless it has exited, then its exit. */
  stop(): Promise<number | string>;
  /** Resolve once its standard output holds `text`; reject if it exits first or after `timeoutMs`. */
  printed(text: string, timeoutMs?: number): Promise<void>;
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
    printed: async (text, timeoutMs = 20_000) => {
      await waitFor(
        () => {
          if (child.exitCode !== null || child.signalCode !== null) {
            throw new Error(`${app} exited before printing "${text}": ${stderr}`);
          }
          return stdout.includes(text);
        },
        { timeoutMs, what: `the ${app} to print "${text}"` },
      );
    },
    stop: () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      return exited;
    },
  };
}
