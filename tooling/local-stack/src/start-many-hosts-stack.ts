import { randomBytes } from 'node:crypto';
import { chmod, mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type GitHubSim, sendDelivery, startGitHubSim, type WebhookDelivery } from '@evalbot/github-sim';
import { type RedisServer, startRedis } from './redis-server.ts';
import { type AppRuntime, answers, type ServiceProcess, startServiceProcess } from './service-process.ts';
import { createSimulatedNetwork, type SimulatedHost, type SimulatedNetwork } from './simulated-network.ts';

export interface WorkerHostOptions {
  name: string;
  /** Worker processes started with the stack (more with `addWorker`). */
  workers: number;
  /** This host's `EVALBOT_SANDBOX_UIDS`, as two machines would have their own. */
  sandboxUids: string;
}

export interface ManyHostsStackOptions {
  workerHosts: WorkerHostOptions[];
  /** Extra environment for every worker (e.g. `WORKER_LOCK_DURATION_MS`). */
  workerEnv?: Record<string, string>;
  /** Where each service appends its output (`<host>-worker-<n>.log`); default none. */
  logDir?: string;
  logLevel?: string;
  /** Run the apps from source (default) or as built by `pnpm build`. */
  runtime?: AppRuntime;
}

/** A worker machine: its namespace, and a filesystem state of its own (no disk shared with any other host). */
export interface WorkerHost {
  name: string;
  host: SimulatedHost;
  /** The parent of its `HOME`, `EVALBOT_CACHE_DIR` and its workers' `EVALBOT_WORK_DIR`s. */
  root: string;
  workers: ServiceProcess[];
  /** Each worker's `/metrics` URL (on the host's address), in the order of `workers`. */
  metricsUrls: string[];
  addWorker(extraEnv?: Record<string, string>): Promise<ServiceProcess>;
}

export interface ManyHostsStack {
  network: SimulatedNetwork;
  /** The GitHub stand-in, in this process, on the bridge's address. */
  sim: GitHubSim;
  redis: RedisServer;
  prefix: string;
  gateway: ServiceProcess;
  webhookUrl: string;
  hosts: WorkerHost[];
  /** The worker host named `name`. */
  host(name: string): WorkerHost;
  /** Sign and send a delivery to the gateway, as GitHub would. */
  deliver(delivery: WebhookDelivery): Promise<{ status: number; body: string }>;
  /** Stop every process, remove the network and the hosts' directories. */
  close(): Promise<void>;
}

/** SIGTERM, then SIGKILL after 10 s: a worker cut off from Redis cannot hand its jobs back. */
async function stopOrKill(service: ServiceProcess): Promise<void> {
  const timer = setTimeout(() => void service.stop('SIGKILL'), 10_000);
  try {
    await service.stop();
  } finally {
    clearTimeout(timer);
  }
}

/**
 * evalbot as separate machines on this one: Redis, the gateway and each worker host in a
 * network namespace of its own on one bridge, the GitHub stand-in on the bridge's own address.
 * Each worker host has its own `HOME`, cache and work directories and sandbox uids, so
 * nothing is shared between hosts but the network — as across real machines. Needs root.
 */
export async function startManyHostsStack(opts: ManyHostsStackOptions): Promise<ManyHostsStack> {
  const network = await createSimulatedNetwork();
  const root = await mkdtemp(join(tmpdir(), 'evalbot-hosts-'));
  // The sandbox's uids bind job directories and environments from below it.
  await chmod(root, 0o711);
  const started: (() => Promise<unknown>)[] = [];
  const close = async () => {
    for (const stop of started.reverse()) await stop().catch(() => {});
    started.length = 0;
    await network.close();
    await rm(root, { recursive: true, force: true });
  };
  try {
    const redisHost = await network.addHost('redis');
    const redis = await startRedis({
      appendonly: true,
      netns: redisHost.netns,
      bind: redisHost.address,
      password: randomBytes(12).toString('hex'),
    });
    started.push(() => redis.close());
    const prefix = `evalbot-${randomBytes(4).toString('hex')}`;
    const webhookSecret = randomBytes(20).toString('hex');
    const sim = await startGitHubSim({ webhookSecret, host: network.gatewayAddress });
    started.push(() => sim.close());
    const common = {
      PATH: process.env.PATH,
      LANG: process.env.LANG,
      REDIS_URL: redis.url,
      BULLMQ_PREFIX: prefix,
      GITHUB_API_URL: sim.url,
      GITHUB_URL: sim.gitUrl,
      LOG_LEVEL: opts.logLevel ?? 'info',
    };
    const logFile = (name: string) => (opts.logDir ? { logFile: join(opts.logDir, `${name}.log`) } : {});

    const gatewayHost = await network.addHost('gateway');
    const gatewayHome = join(root, 'gateway');
    await mkdir(gatewayHome);
    const gateway = await startServiceProcess({
      name: 'gateway',
      app: 'gateway',
      netns: gatewayHost.netns,
      ...(opts.runtime ? { runtime: opts.runtime } : {}),
      env: {
        ...common,
        HOME: gatewayHome,
        PORT: '3000',
        HOST: gatewayHost.address,
        GATEWAY_METRICS_PORT: '9100',
        GATEWAY_METRICS_HOST: gatewayHost.address,
        WEBHOOK_SECRET: webhookSecret,
      },
      ready: () => answers(`http://${gatewayHost.address}:9100/readyz`),
      ...logFile('gateway'),
    });
    started.push(() => stopOrKill(gateway));
    const webhookUrl = `http://${gatewayHost.address}:3000/api/github/webhooks`;
    sim.setWebhookTarget({ url: webhookUrl, secret: webhookSecret });

    const pipEnv = Object.fromEntries(
      Object.entries(process.env).filter(([k]) => k.startsWith('PIP_') || k === 'EVALBOT_PYTHON'),
    );
    const hosts: WorkerHost[] = [];
    for (const hostOpts of opts.workerHosts) {
      const host = await network.addHost(hostOpts.name);
      const hostRoot = join(root, hostOpts.name);
      const home = join(hostRoot, 'home');
      const cacheDir = join(hostRoot, 'cache');
      await mkdir(home, { recursive: true });
      await mkdir(cacheDir, { recursive: true });
      await chmod(hostRoot, 0o711);
      // The sandbox's uids read the environments built here.
      await chmod(cacheDir, 0o755);
      const workers: ServiceProcess[] = [];
      const metricsUrls: string[] = [];
      let count = 0;
      const addWorker = async (extraEnv: Record<string, string> = {}) => {
        count += 1;
        const index = count;
        const workDir = join(hostRoot, `work-${index}`);
        await mkdir(workDir, { recursive: true });
        // A namespace of its own: the same ports on every host, as on real machines.
        const metricsUrl = `http://${host.address}:${9463 + index}/metrics`;
        const worker = await startServiceProcess({
          name: `${hostOpts.name}-worker-${index}`,
          app: 'worker',
          netns: host.netns,
          ...(opts.runtime ? { runtime: opts.runtime } : {}),
          env: {
            ...common,
            ...pipEnv,
            HOME: home,
            APP_ID: String(sim.appId),
            PRIVATE_KEY: sim.privateKey,
            EVALBOT_WORK_DIR: workDir,
            EVALBOT_CACHE_DIR: cacheDir,
            EVALBOT_SANDBOX_UIDS: hostOpts.sandboxUids,
            WORKER_METRICS_PORT: String(9463 + index),
            WORKER_METRICS_HOST: host.address,
            ...opts.workerEnv,
            ...extraEnv,
          },
          ready: () => answers(metricsUrl),
          ...logFile(`${hostOpts.name}-worker-${index}`),
        });
        workers.push(worker);
        metricsUrls.push(metricsUrl);
        started.push(() => stopOrKill(worker));
        return worker;
      };
      hosts.push({
        name: hostOpts.name,
        host,
        root: hostRoot,
        workers,
        metricsUrls,
        addWorker,
      });
    }
    await Promise.all(
      hosts.flatMap((host, i) =>
        Array.from({ length: opts.workerHosts[i]?.workers ?? 0 }, () => host.addWorker()),
      ),
    );

    return {
      network,
      sim,
      redis,
      prefix,
      gateway,
      webhookUrl,
      hosts,
      host: (name) => {
        const found = hosts.find((h) => h.name === name);
        if (!found) throw new Error(`no worker host named ${name}`);
        return found;
      },
      deliver: (delivery) => sendDelivery(webhookUrl, delivery, webhookSecret),
      close,
    };
  } catch (error) {
    await close();
    throw error;
  }
}
