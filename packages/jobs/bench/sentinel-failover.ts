// `node --import tsx packages/jobs/bench/sentinel-failover.ts`: how long a Sentinel group (a
// master, a replica, three Sentinels on loopback; down-after-milliseconds 1000) leaves evalbot
// without Redis when the master is lost, as the gateway sees it. For each way of losing the
// master (killed: its sockets close; frozen: they stay open, as when its host hangs), the time
// from the loss to `+switch-master` and to the first write a producer connection (the
// gateway's: fail fast, no offline queue) gets through. The figures behind "Redis that
// survives losing a node" in docs/operations.md. BENCH_ROUNDS rounds each (default 3).

import { startSentinelGroup } from '@evalbot/test-utils';
import { createRedisConnection, waitForRedisReady } from '../src/index.ts';

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);

async function round(loss: 'killed' | 'frozen'): Promise<{ switchMs: number; writeMs: number }> {
  const group = await startSentinelGroup();
  const connection = createRedisConnection(
    { url: group.url, sentinel: { sentinels: group.sentinelAddresses, name: group.master } },
    { role: 'producer' },
  );
  try {
    await waitForRedisReady(connection);
    const { switched } = await group.watchFailover();
    const lostAt = performance.now();
    if (loss === 'killed') await group.killMaster();
    else await group.freezeMaster();
    let switchMs = 0;
    void switched.then(() => {
      switchMs = performance.now() - lostAt;
    });
    for (;;) {
      const ok = await connection.set('bench:probe', '1').then(
        () => true,
        () => false,
      );
      if (ok) break;
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    const writeMs = performance.now() - lostAt;
    await switched;
    return { switchMs, writeMs };
  } finally {
    connection.disconnect();
    await group.close();
  }
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] ?? 0;

for (const loss of ['killed', 'frozen'] as const) {
  const results: { switchMs: number; writeMs: number }[] = [];
  for (let i = 0; i < ROUNDS; i += 1) results.push(await round(loss));
  const show = (key: 'switchMs' | 'writeMs') =>
    `median ${(median(results.map((r) => r[key])) / 1000).toFixed(1)} s (${results.map((r) => (r[key] / 1000).toFixed(1)).join(', ')})`;
  console.log(
    `master ${loss}: +switch-master after ${show('switchMs')}; first write after ${show('writeMs')}`,
  );
}
