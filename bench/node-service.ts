import { spawn } from 'node:child_process';
import { closeSync, openSync } from 'node:fs';
import { answers, waitFor } from '@evalbot/local-stack';

export interface NodeService {
  name: string;
  pid: number;
  stop(): Promise<void>;
}

/**
 * Start `node <nodeArgs…>` as its own process (a bundle as the images run it, or a TypeScript
 * entry point with `--import tsx`) and wait until `readyUrl` answers 200. Its output goes straight to
 * `logFile`, not through this process, so logging under load costs the load generator nothing.
 */
export async function startNodeService(opts: {
  name: string;
  nodeArgs: string[];
  cwd: string;
  env: Record<string, string | undefined>;
  readyUrl: string;
  logFile: string;
}): Promise<NodeService> {
  const fd = openSync(opts.logFile, 'a');
  const child = spawn(process.execPath, opts.nodeArgs, {
    cwd: opts.cwd,
    env: opts.env,
    stdio: ['ignore', fd, fd],
  });
  closeSync(fd);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  let gone = false;
  void exited.then(() => {
    gone = true;
  });
  const stop = async () => {
    if (!gone) child.kill('SIGTERM');
    await exited;
  };
  try {
    await waitFor(
      async () => {
        if (gone) throw new Error(`${opts.name} exited during start-up; see ${opts.logFile}`);
        return answers(opts.readyUrl);
      },
      { timeoutMs: 60_000, intervalMs: 100, what: `${opts.name} to answer ${opts.readyUrl}` },
    );
  } catch (error) {
    child.kill('SIGKILL');
    throw error;
  }
  return { name: opts.name, pid: child.pid ?? -1, stop };
}
