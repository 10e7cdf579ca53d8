import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Cluster } from 'ioredis';
import { describe, expect, it } from 'vitest';
import { freePort, startRedis, startRedisCluster } from '../src/index.ts';

describe('startRedisCluster', () => {
  it('builds the cluster on its own nodes when another process answers on a port it picked', async () => {
    // Another Redis took the first port picked, as a parallel test file may between the pick and the bind.
    const foreign = await startRedis();
    let picks = 0;
    const cluster = await startRedisCluster({
      pickPort: () => (picks++ === 0 ? Promise.resolve(foreign.port) : freePort()),
    });
    const connection = new Cluster(cluster.nodes);
    try {
      expect(picks).toBeGreaterThan(6);
      expect(cluster.nodes.map((node) => node.port)).not.toContain(foreign.port);
      await connection.set('{evalbot}:answer', '42');
      expect(await connection.get('{evalbot}:answer')).toBe('42');
    } finally {
      connection.disconnect();
      await cluster.close();
      await foreign.close();
    }
  });

  it('says how to get redis-server when it cannot be started', async () => {
    const emptyDir = await mkdtemp(join(tmpdir(), 'evalbot-no-redis-'));
    const path = process.env.PATH;
    process.env.PATH = emptyDir;
    try {
      await expect(startRedisCluster()).rejects.toThrow(
        /^redis-server could not be started \(spawn redis-server ENOENT\): install Redis .* or put redis-server on PATH$/,
      );
    } finally {
      process.env.PATH = path;
      await rm(emptyDir, { recursive: true, force: true });
    }
  });
});
