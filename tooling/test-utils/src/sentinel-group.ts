import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { freePort, waitFor } from '@evalbot/local-stack';
import { makeCertificates } from './secured-redis.ts';

const run = promisify(execFile);

/** The master group name the Sentinels of {@link startSentinelGroup} monitor. */
export const SENTINEL_MASTER_NAME = 'evalbot-master';

export interface SentinelGroup {
  /** `REDIS_SENTINELS`: the three Sentinels as `127.0.0.1:port,…`. */
  sentinels: string;
  /** The same, as ioredis's `sentinels` option takes them. */
  sentinelAddresses: { host: string; port: number }[];
  /** `REDIS_SENTINEL_MASTER`. */
  master: string;
  /** `REDIS_URL` of the group: credentials only, its host is not used (the Sentinels name the master). */
  url: string;
  /** TLS only: the CA that signed every server's certificate, as PEM and as REDIS_TLS_CA_FILE. */
  ca?: string;
  caFile?: string;
  /** Port of the first master; {@link SentinelGroup.masterPort} after a failover. */
  initialMasterPort: number;
  /** Port of the current master, as the Sentinels say. */
  masterPort(): Promise<number>;
  /** SIGKILL the current master (as losing its host would), leaving the replica and Sentinels. */
  killMaster(): Promise<number>;
  /**
   * SIGSTOP the current master: its connections stay open but nothing answers, as when its
   * host hangs or the network to it is cut. Stays stopped until {@link SentinelGroup.close}.
   */
  freezeMaster(): Promise<number>;
  /**
   * Subscribe to a Sentinel's `+switch-master` (resolves once subscribed); `switched` resolves
   * with the new master's port when the Sentinels have promoted it.
   */
  watchFailover(): Promise<{ switched: Promise<number> }>;
  close(): Promise<void>;
}

/** The environment of a redis-cli that authenticates with `password` (kept off its command line). */
function cliEnv(password: string | undefined): NodeJS.ProcessEnv {
  return password ? { ...process.env, REDISCLI_AUTH: password } : process.env;
}

/**
 * A master, a replica and three Sentinels on loopback, each a real `redis-server` process, with
 * short Sentinel timeouts (master declared down after 1 s) so a failover takes seconds. Resolves
 * once the replica is in sync and every Sentinel knows the replica and the two other Sentinels,
 * so a failover can be agreed on.
 */
export async function startSentinelGroup(
  opts: { sentinelPassword?: string; tls?: boolean } = {},
): Promise<SentinelGroup> {
  const dir = await mkdtemp(join(tmpdir(), 'evalbot-sentinel-'));
  const caFile = join(dir, 'ca.crt');
  const cliTls = opts.tls ? ['--tls', '--cacert', caFile] : [];
  const cli = async (port: number, password: string | undefined, ...args: string[]) => {
    const { stdout } = await run('redis-cli', [...cliTls, '-h', '127.0.0.1', '-p', String(port), ...args], {
      env: cliEnv(password),
    });
    return stdout.trim();
  };
  const processes = new Map<number, ChildProcess>();
  const subscribers: ChildProcess[] = [];
  const start = (port: number, args: string[]) => {
    const child = spawn('redis-server', args, { stdio: 'ignore' });
    processes.set(port, child);
    return child;
  };
  const close = async () => {
    for (const child of [...subscribers, ...processes.values()]) {
      if (child.exitCode !== null || child.signalCode !== null) continue;
      const exited = once(child, 'exit');
      child.kill('SIGKILL');
      await exited;
    }
    await rm(dir, { recursive: true, force: true });
  };
  try {
    const [masterPort, replicaPort, ...sentinelPorts] = await Promise.all(
      Array.from({ length: 5 }, () => freePort()),
    );
    if (!masterPort || !replicaPort) throw new Error('no free port');
    if (opts.tls) await makeCertificates(dir);
    // TLS only, everywhere: clients, replication and the Sentinels' links to each other.
    const listen = (port: number): [string, string][] =>
      opts.tls
        ? [
            ['port', '0'],
            ['tls-port', String(port)],
            ['tls-cert-file', join(dir, 'server.crt')],
            ['tls-key-file', join(dir, 'server.key')],
            ['tls-ca-cert-file', caFile],
            ['tls-auth-clients', 'no'],
            ['tls-replication', 'yes'],
          ]
        : [['port', String(port)]];
    const server = (port: number, extra: string[]) => [
      ...listen(port).flatMap(([key, value]) => [`--${key}`, value]),
      '--bind',
      '127.0.0.1',
      '--dir',
      dir,
      '--dbfilename',
      `dump-${port}.rdb`,
      '--appendonly',
      'yes',
      '--appenddirname',
      `aof-${port}`,
      '--appendfsync',
      'everysec',
      '--maxmemory-policy',
      'noeviction',
      ...extra,
    ];
    start(masterPort, server(masterPort, []));
    start(replicaPort, server(replicaPort, ['--replicaof', '127.0.0.1', String(masterPort)]));
    for (const port of sentinelPorts) {
      // Sentinel rewrites its configuration file (what it learns of replicas and peers).
      const file = join(dir, `sentinel-${port}.conf`);
      await writeFile(
        file,
        [
          ...listen(port).map(([key, value]) => `${key} ${value}`),
          'bind 127.0.0.1',
          `dir ${dir}`,
          `sentinel monitor ${SENTINEL_MASTER_NAME} 127.0.0.1 ${masterPort} 2`,
          `sentinel down-after-milliseconds ${SENTINEL_MASTER_NAME} 1000`,
          `sentinel failover-timeout ${SENTINEL_MASTER_NAME} 5000`,
          `sentinel parallel-syncs ${SENTINEL_MASTER_NAME} 1`,
          // The Sentinels' own password; they use it with each other too.
          ...(opts.sentinelPassword ? [`requirepass ${opts.sentinelPassword}`] : []),
          '',
        ].join('\n'),
      );
      start(port, [file, '--sentinel']);
    }
    await waitFor(
      async () => /master_link_status:up/.test(await cli(replicaPort, undefined, 'INFO', 'replication')),
      {
        timeoutMs: 20_000,
        intervalMs: 100,
        what: 'the replica to sync with the master',
      },
    );
    await waitFor(
      async () => {
        for (const port of sentinelPorts) {
          const replicas = await cli(
            port,
            opts.sentinelPassword,
            'SENTINEL',
            'REPLICAS',
            SENTINEL_MASTER_NAME,
          );
          const peers = await cli(port, opts.sentinelPassword, 'SENTINEL', 'SENTINELS', SENTINEL_MASTER_NAME);
          if (!replicas.includes(String(replicaPort))) return false;
          if (sentinelPorts.filter((p) => p !== port).some((p) => !peers.includes(String(p)))) return false;
        }
        return true;
      },
      { timeoutMs: 30_000, intervalMs: 200, what: 'every Sentinel to know the replica and its two peers' },
    );

    const processOn = (port: number) => {
      const child = processes.get(port);
      if (!child) throw new Error(`no redis-server on port ${port}`);
      return child;
    };
    const currentMasterPort = async () => {
      const reply = await cli(
        sentinelPorts[0] as number,
        opts.sentinelPassword,
        'SENTINEL',
        'GET-MASTER-ADDR-BY-NAME',
        SENTINEL_MASTER_NAME,
      );
      return Number(reply.split('\n')[1]);
    };
    return {
      sentinels: sentinelPorts.map((p) => `127.0.0.1:${p}`).join(','),
      sentinelAddresses: sentinelPorts.map((port) => ({ host: '127.0.0.1', port })),
      master: SENTINEL_MASTER_NAME,
      url: `${opts.tls ? 'rediss' : 'redis'}://${SENTINEL_MASTER_NAME}`,
      ...(opts.tls ? { ca: await readFile(caFile, 'utf8'), caFile } : {}),
      initialMasterPort: masterPort,
      masterPort: currentMasterPort,
      killMaster: async () => {
        const port = await currentMasterPort();
        const child = processOn(port);
        const exited = once(child, 'exit');
        child.kill('SIGKILL');
        await exited;
        return port;
      },
      freezeMaster: async () => {
        const port = await currentMasterPort();
        processOn(port).kill('SIGSTOP');
        return port;
      },
      watchFailover: () =>
        new Promise<{ switched: Promise<number> }>((subscribed, reject) => {
          // redis-cli prints each part of a pub/sub message on a line of its own.
          const subscriber = spawn(
            'redis-cli',
            [...cliTls, '-h', '127.0.0.1', '-p', String(sentinelPorts[1]), 'SUBSCRIBE', '+switch-master'],
            { env: cliEnv(opts.sentinelPassword) },
          );
          subscribers.push(subscriber);
          let output = '';
          let resolveSwitched: (port: number) => void = () => {};
          const switched = new Promise<number>((resolve) => {
            resolveSwitched = resolve;
          });
          subscriber.stdout.on('data', (chunk: Buffer) => {
            output += chunk.toString();
            if (/^subscribe\n\+switch-master\n1$/m.test(output)) subscribed({ switched });
            const match = new RegExp(`${SENTINEL_MASTER_NAME} \\S+ \\d+ \\S+ (\\d+)`).exec(output);
            if (!match) return;
            subscriber.kill();
            resolveSwitched(Number(match[1]));
          });
          subscriber.on('error', reject);
        }),
      close,
    };
  } catch (error) {
    await close();
    throw error;
  }
}
