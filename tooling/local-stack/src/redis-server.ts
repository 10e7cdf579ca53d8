import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { freePort } from './free-port.ts';
import { inNetns } from './simulated-network.ts';
import { waitFor } from './wait-for.ts';

export interface RedisServer {
  url: string;
  port: number;
  dir: string;
  /** Stop the server (SIGTERM, or SIGKILL with `{ kill: true }`), keeping its directory. */
  stop(opts?: { kill?: boolean }): Promise<void>;
  /** Start it again on the same port and directory (AOF data survives when `appendonly`). */
  start(): Promise<void>;
  /** Stop it and remove its directory. */
  close(): Promise<void>;
}

/**
 * Start a private redis-server on a free loopback port with its own directory (for the demo,
 * benchmarks and tests; production points REDIS_URL at a managed Redis).
 */
export async function startRedis(
  opts: {
    appendonly?: boolean;
    /** Run it in this network namespace ({@link inNetns}), bound to `bind`. */
    netns?: string;
    /** Its address; default 127.0.0.1. */
    bind?: string;
    /** `requirepass`, put in `url`. */
    password?: string;
  } = {},
): Promise<RedisServer> {
  const bind = opts.bind ?? '127.0.0.1';
  // A namespace of its own has every port free.
  const port = opts.netns ? 6379 : await freePort();
  const dir = await mkdtemp(join(tmpdir(), 'evalbot-test-redis-'));
  const url = `redis://${opts.password ? `:${encodeURIComponent(opts.password)}@` : ''}${bind}:${port}`;
  let child: ChildProcess | undefined;

  const start = async () => {
    const argv = [
      'redis-server',
      ...(opts.password ? ['--requirepass', opts.password] : []),
      '--port',
      String(port),
      '--bind',
      bind,
      '--dir',
      dir,
      '--save',
      '',
      '--appendonly',
      opts.appendonly ? 'yes' : 'no',
      '--appendfsync',
      'always',
      '--maxmemory-policy',
      'noeviction',
    ];
    const [file = '', ...args] = opts.netns ? inNetns(opts.netns, argv) : argv;
    child = spawn(file, args, { stdio: 'ignore' });
    const started = child;
    await waitFor(
      async () => {
        if (started.exitCode !== null) throw new Error(`redis-server exited with ${started.exitCode}`);
        const probe = new Redis(url, {
          lazyConnect: true,
          maxRetriesPerRequest: 0,
          retryStrategy: () => null,
        });
        probe.on('error', () => {});
        try {
          await probe.connect();
          return (await probe.ping()) === 'PONG';
        } finally {
          probe.disconnect();
        }
      },
      { timeoutMs: 10_000, what: `redis-server on port ${port}` },
    );
  };

  const stop = async (stopOpts: { kill?: boolean } = {}) => {
    const running = child;
    child = undefined;
    if (!running || running.exitCode !== null) return;
    const exited = new Promise((resolve) => running.once('exit', resolve));
    running.kill(stopOpts.kill ? 'SIGKILL' : 'SIGTERM');
    await exited;
  };

  await start();
  return {
    url,
    port,
    dir,
    stop,
    start,
    close: async () => {
      await stop();
      await rm(dir, { recursive: true, force: true });
    },
  };
}
