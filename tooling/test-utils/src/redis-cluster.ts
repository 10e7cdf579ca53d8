import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { freePort, waitFor } from '@evalbot/local-stack';

const run = promisify(execFile);

export interface RedisCluster {
  /** The masters, as ioredis's `Cluster` takes its start-up nodes. */
  nodes: { host: string; port: number }[];
  /** `CLUSTER KEYSLOT key`, asked of the cluster itself. */
  keySlot(key: string): Promise<number>;
  close(): Promise<void>;
}

/** How many times a node is started on new ports before giving up. */
const NODE_ATTEMPTS = 5;

/**
 * One `redis-server --cluster-enabled yes` answering PING; its port. Both of its ports are
 * chosen here: by default the cluster bus listens on port + 10000, which is past 65535 for a
 * quarter of Linux's ephemeral range, or may be taken. A port can also be taken between
 * {@link freePort} and the server's bind (other test files pick ports too): the other process
 * may answer PING before ours exits, so a node is accepted only when `INFO server` gives our
 * child's pid; otherwise ours is killed and started again on new ports.
 */
async function startNode(
  dir: string,
  children: ChildProcess[],
  cli: (port: number, ...args: string[]) => Promise<string>,
  pickPort: () => Promise<number>,
): Promise<number> {
  for (let attempt = 1; ; attempt++) {
    const port = await pickPort();
    const busPort = await pickPort();
    if (busPort === port) continue;
    const child = spawn(
      'redis-server',
      [
        '--port',
        String(port),
        '--cluster-port',
        String(busPort),
        '--bind',
        '127.0.0.1',
        '--dir',
        dir,
        '--cluster-enabled',
        'yes',
        '--cluster-config-file',
        `nodes-${port}.conf`,
        '--save',
        '',
        '--appendonly',
        'no',
      ],
      { stdio: 'ignore' },
    );
    children.push(child);
    // Without a listener, a failed spawn (no redis-server on PATH) is an uncaught exception.
    let spawnError: Error | undefined;
    child.on('error', (error) => {
      spawnError = error;
    });
    const state = await waitFor(
      async () => {
        if (spawnError) return 'not started';
        if (child.exitCode !== null || child.signalCode !== null) return 'exited';
        if ((await cli(port, 'PING').catch(() => '')) !== 'PONG') return undefined;
        const info = await cli(port, 'INFO', 'server').catch(() => '');
        return /^process_id:(\d+)/m.exec(info)?.[1] === String(child.pid) ? 'ours' : 'foreign';
      },
      { timeoutMs: 10_000, what: `cluster node on port ${port}` },
    );
    if (state === 'ours') return port;
    if (spawnError) {
      throw new Error(
        `redis-server could not be started (${spawnError.message}): install Redis (apt-get install redis-server) or put redis-server on PATH`,
      );
    }
    if (child.exitCode === null && child.signalCode === null) {
      const exited = once(child, 'exit');
      child.kill('SIGKILL');
      await exited;
    }
    if (attempt >= NODE_ATTEMPTS) {
      throw new Error(
        `no cluster node started in ${NODE_ATTEMPTS} attempts: on the last, port ${port} ${state === 'foreign' ? 'was answered by another process' : 'could not be bound (redis-server exited)'}`,
      );
    }
  }
}

/**
 * A Redis Cluster of three masters (no replicas) on loopback, made as an operator would:
 * three `redis-server --cluster-enabled yes` and `redis-cli --cluster create`. Resolves once
 * every node reports `cluster_state:ok`.
 */
export async function startRedisCluster(
  options: {
    /** Where each node's ports come from; {@link freePort} by default (a test gives taken ones). */
    pickPort?: () => Promise<number>;
  } = {},
): Promise<RedisCluster> {
  const pickPort = options.pickPort ?? freePort;
  const dir = await mkdtemp(join(tmpdir(), 'evalbot-cluster-'));
  const children: ChildProcess[] = [];
  const close = async () => {
    for (const child of children) {
      if (child.exitCode !== null || child.signalCode !== null) continue;
      const exited = once(child, 'exit');
      child.kill('SIGKILL');
      await exited;
    }
    await rm(dir, { recursive: true, force: true });
  };
  const cli = async (port: number, ...args: string[]) =>
    (await run('redis-cli', ['-h', '127.0.0.1', '-p', String(port), ...args])).stdout.trim();
  try {
    const ports: number[] = [];
    for (let i = 0; i < 3; i++) ports.push(await startNode(dir, children, cli, pickPort));
    await run('redis-cli', [
      '--cluster',
      'create',
      ...ports.map((p) => `127.0.0.1:${p}`),
      '--cluster-replicas',
      '0',
      '--cluster-yes',
    ]);
    await waitFor(
      async () => {
        for (const port of ports)
          if (!(await cli(port, 'CLUSTER', 'INFO')).includes('cluster_state:ok')) return false;
        return true;
      },
      { timeoutMs: 20_000, intervalMs: 100, what: 'the cluster to be ok on every node' },
    );
    return {
      nodes: ports.map((port) => ({ host: '127.0.0.1', port })),
      keySlot: async (key) => Number(await cli(ports[0] as number, 'CLUSTER', 'KEYSLOT', key)),
      close,
    };
  } catch (error) {
    await close();
    throw error;
  }
}
