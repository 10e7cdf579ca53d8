import { type ChildProcess, spawn } from 'node:child_process';
import { createWriteStream, existsSync, type WriteStream } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { bundlePath, NODE_FLAGS } from '@evalbot/app-bundle';
import { inNetns } from './simulated-network.ts';
import { waitFor } from './wait-for.ts';

/** The repository root (this file is tooling/local-stack/src/…). */
export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');

export interface ServiceProcess {
  name: string;
  child: ChildProcess;
  pid: number;
  /** Everything the process wrote, for assertions and for a failing test's message. */
  output(): string;
  /** Resolves with the exit code (or signal) once the process exits. */
  exited: Promise<number | NodeJS.Signals>;
  /** SIGTERM (or `signal`), then wait for the exit. */
  stop(signal?: NodeJS.Signals): Promise<number | NodeJS.Signals>;
}

/**
 * How an app is run: `source` as `pnpm start:<app>` runs it (TypeScript through tsx), `bundle`
 * as the Dockerfile does (`apps/<app>/dist/main.js` from `pnpm build`, with its Node flags).
 */
export type AppRuntime = 'source' | 'bundle';

function appCommand(app: 'gateway' | 'worker' | 'dashboard', runtime: AppRuntime): string[] {
  if (runtime === 'source') return ['--import', 'tsx', resolve(REPO_ROOT, 'apps', app, 'src/main.ts')];
  const bundle = bundlePath(app);
  if (!existsSync(bundle)) throw new Error(`${bundle} does not exist: run \`pnpm build\` first`);
  return [...NODE_FLAGS[app], bundle];
}

/**
 * Start an app as its own Node process, from source or as the Dockerfile runs it (see
 * {@link AppRuntime}), and wait until `ready()` says it is up. Output is kept in memory (bounded) and, with
 * `logFile`, appended to a file.
 */
export async function startServiceProcess(opts: {
  name: string;
  app: 'gateway' | 'worker' | 'dashboard';
  /** Default `source`. */
  runtime?: AppRuntime;
  env: Record<string, string | undefined>;
  ready: () => Promise<boolean>;
  logFile?: string;
  readyTimeoutMs?: number;
  /** Run it in this network namespace (see {@link inNetns}; the pid is node's). */
  netns?: string;
}): Promise<ServiceProcess> {
  const node = [process.execPath, ...appCommand(opts.app, opts.runtime ?? 'source')];
  const [file = '', ...args] = opts.netns ? inNetns(opts.netns, node) : node;
  const child = spawn(file, args, {
    cwd: resolve(REPO_ROOT, 'apps', opts.app),
    env: opts.env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let buffer = '';
  const log: WriteStream | undefined = opts.logFile
    ? createWriteStream(opts.logFile, { flags: 'a' })
    : undefined;
  const collect = (chunk: Buffer) => {
    buffer = (buffer + chunk.toString()).slice(-2_000_000);
    log?.write(chunk);
  };
  child.stdout?.on('data', collect);
  child.stderr?.on('data', collect);
  const exited = new Promise<number | NodeJS.Signals>((resolveExit) => {
    child.once('exit', (code, signal) => {
      log?.end();
      resolveExit(signal ?? code ?? 0);
    });
  });
  let exitedEarly = false;
  void exited.then(() => {
    exitedEarly = true;
  });
  await waitFor(
    async () => {
      if (exitedEarly) throw new Error(`${opts.name} exited during start-up:\n${buffer.slice(-4000)}`);
      return opts.ready().catch(() => false);
    },
    { timeoutMs: opts.readyTimeoutMs ?? 60_000, intervalMs: 100, what: `${opts.name} to be ready` },
  ).catch((error: Error) => {
    child.kill('SIGKILL');
    throw new Error(`${error.message}\n--- ${opts.name} output ---\n${buffer.slice(-4000)}`);
  });
  return {
    name: opts.name,
    child,
    pid: child.pid ?? -1,
    output: () => buffer,
    exited,
    stop: async (signal = 'SIGTERM') => {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      return exited;
    },
  };
}

/** True when `url` answers 200. */
export async function answers(url: string): Promise<boolean> {
  try {
    const response = await fetch(url, { signal: AbortSignal.timeout(2000) });
    await response.arrayBuffer();
    return response.ok;
  } catch {
    return false;
  }
}
