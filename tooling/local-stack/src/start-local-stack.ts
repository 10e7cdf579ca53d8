import { randomBytes } from 'node:crypto';
import { chmod, mkdir, mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type GitHubSim, startGitHubSim, type WebhookDelivery } from '@evalbot/github-sim';
import { freePort } from './free-port.ts';
import { type RedisServer, startRedis } from './redis-server.ts';
import { type AppRuntime, answers, type ServiceProcess, startServiceProcess } from './service-process.ts';

export interface LocalStackOptions {
  /** Use this Redis; default a private redis-server started (and stopped) by the stack. */
  redisUrl?: string;
  /** The CA file of a `rediss://` `redisUrl`, as the apps take it (`REDIS_TLS_CA_FILE`). */
  redisTlsCaFile?: string;
  /** With `redisUrl`: reach Redis's master through these Sentinels, as the apps take them. */
  redisSentinel?: LocalStackSentinel;
  /** Worker processes to start. Default 2. */
  workers?: number;
  /** Shared by the workers: cached virtual environments and pip's cache. */
  cacheDir: string;
  /** BullMQ key prefix; default a fresh one, so stacks never see each other's jobs. */
  prefix?: string;
  /** Extra environment for the gateway (e.g. a `REDIS_URL` with a Redis user of its own). */
  gatewayEnv?: Record<string, string>;
  /** Extra environment for every worker (e.g. `WORKER_LOCK_DURATION_MS`, `PIP_INDEX_URL`). */
  workerEnv?: Record<string, string>;
  /** Where each service appends its output; default none (kept in memory). */
  logDir?: string;
  logLevel?: string;
  /** The evaluate label. Default `evaluate`. */
  evaluateLabel?: string;
  /** Run the gateway and workers from source (default) or as built by `pnpm build`. */
  runtime?: AppRuntime;
}

/** `REDIS_SENTINELS` (`host:port,…`) and `REDIS_SENTINEL_MASTER`. */
export interface LocalStackSentinel {
  sentinels: string;
  master: string;
}

export interface LocalStack {
  sim: GitHubSim;
  redisUrl: string;
  /** The private redis-server, when the stack started one (tests stop and restart it). */
  redis: RedisServer | undefined;
  prefix: string;
  webhookUrl: string;
  webhookSecret: string;
  /** The gateway process (a new one after {@link LocalStack.startGateway}). */
  readonly gateway: ServiceProcess;
  /** Start the gateway again on the same ports, once the test stopped it (`gateway.stop()`). */
  startGateway(): Promise<ServiceProcess>;
  workers: ServiceProcess[];
  /** Work directories of the workers (one per process). */
  workDirs: string[];
  /** Each worker's `/metrics` URL, in the order of `workers`. */
  metricsUrls: string[];
  /** Start one more worker process. */
  addWorker(extraEnv?: Record<string, string>): Promise<ServiceProcess>;
  /**
   * Sign and send a delivery to the gateway, as GitHub would: through the stand-in, whose
   * delivery log (`GET /app/hook/deliveries`) lists it. Throws when the gateway cannot be reached.
   */
  deliver(delivery: WebhookDelivery): Promise<{ status: number; body: string }>;
  /** Stop everything this stack started (workers first, SIGTERM), and remove its temp files. */
  close(): Promise<void>;
}

/**
 * evalbot on one machine, for the demo, the end-to-end tests and the benchmarks: Redis (if
 * none is given), the GitHub stand-in, the gateway and N workers as real processes, wired
 * to each other exactly as in production (App JWT, installation tokens, signed webhooks).
 */
export async function startLocalStack(opts: LocalStackOptions): Promise<LocalStack> {
  const root = await mkdtemp(join(tmpdir(), 'evalbot-stack-'));
  // The sandbox's uids bind their job directories and environments from below these: they
  // must traverse (not list) them. A test's mkdtemp cache directory is private until then.
  await chmod(root, 0o711);
  await mkdir(opts.cacheDir, { recursive: true });
  await chmod(opts.cacheDir, (await stat(opts.cacheDir)).mode | 0o011);
  const started: (() => Promise<unknown>)[] = [];
  const close = async () => {
    for (const stop of started.reverse()) await stop().catch(() => {});
    started.length = 0;
    await rm(root, { recursive: true, force: true });
  };
  try {
    let redis: RedisServer | undefined;
    if (!opts.redisUrl) {
      redis = await startRedis({ appendonly: true });
      started.push(() => redis?.close() ?? Promise.resolve());
    }
    const redisUrl = opts.redisUrl ?? (redis as RedisServer).url;
    const prefix = opts.prefix ?? `evalbot-${randomBytes(4).toString('hex')}`;
    const webhookSecret = randomBytes(20).toString('hex');
    const sim = await startGitHubSim({ webhookSecret });
    started.push(() => sim.close());

    const common = {
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      LANG: process.env.LANG,
      REDIS_URL: redisUrl,
      ...(opts.redisTlsCaFile ? { REDIS_TLS_CA_FILE: opts.redisTlsCaFile } : {}),
      ...(opts.redisSentinel
        ? { REDIS_SENTINELS: opts.redisSentinel.sentinels, REDIS_SENTINEL_MASTER: opts.redisSentinel.master }
        : {}),
      BULLMQ_PREFIX: prefix,
      GITHUB_API_URL: sim.url,
      GITHUB_URL: sim.gitUrl,
      LOG_LEVEL: opts.logLevel ?? 'info',
      EVALUATE_LABEL: opts.evaluateLabel ?? 'evaluate',
    };
    const gatewayPort = await freePort();
    // /readyz is on the gateway's internal port, apart from the webhook port.
    const gatewayMetricsPort = await freePort();
    const startGateway = async () => {
      const started = await startServiceProcess({
        name: 'gateway',
        app: 'gateway',
        ...(opts.runtime ? { runtime: opts.runtime } : {}),
        env: {
          ...common,
          PORT: String(gatewayPort),
          HOST: '127.0.0.1',
          GATEWAY_METRICS_PORT: String(gatewayMetricsPort),
          GATEWAY_METRICS_HOST: '127.0.0.1',
          WEBHOOK_SECRET: webhookSecret,
          ...opts.gatewayEnv,
        },
        ready: () => answers(`http://127.0.0.1:${gatewayMetricsPort}/readyz`),
        ...(opts.logDir ? { logFile: join(opts.logDir, 'gateway.log') } : {}),
      });
      return started;
    };
    let gateway = await startGateway();
    started.push(() => gateway.stop());
    const webhookUrl = `http://127.0.0.1:${gatewayPort}/api/github/webhooks`;
    sim.setWebhookTarget({ url: webhookUrl, secret: webhookSecret });

    const workers: ServiceProcess[] = [];
    const workDirs: string[] = [];
    const metricsUrls: string[] = [];
    let workerCount = 0;
    const addWorker = async (extraEnv: Record<string, string> = {}) => {
      workerCount += 1;
      const index = workerCount;
      const workDir = join(root, `work-${index}`);
      await mkdir(workDir, { recursive: true });
      const metricsPort = await freePort();
      const pipEnv = Object.fromEntries(
        Object.entries(process.env).filter(
          ([k]) => k.startsWith('PIP_') || k.startsWith('OPENBLAS_') || k === 'EVALBOT_PYTHON',
        ),
      );
      const worker = await startServiceProcess({
        name: `worker-${index}`,
        app: 'worker',
        ...(opts.runtime ? { runtime: opts.runtime } : {}),
        env: {
          ...common,
          ...pipEnv,
          APP_ID: String(sim.appId),
          PRIVATE_KEY: sim.privateKey,
          EVALBOT_WORK_DIR: workDir,
          EVALBOT_CACHE_DIR: opts.cacheDir,
          WORKER_METRICS_PORT: String(metricsPort),
          WORKER_METRICS_HOST: '127.0.0.1',
          ...opts.workerEnv,
          ...extraEnv,
        },
        ready: () => answers(`http://127.0.0.1:${metricsPort}/metrics`),
        ...(opts.logDir ? { logFile: join(opts.logDir, `worker-${index}.log`) } : {}),
      });
      workers.push(worker);
      workDirs.push(workDir);
      metricsUrls.push(`http://127.0.0.1:${metricsPort}/metrics`);
      started.push(() => worker.stop());
      return worker;
    };
    await Promise.all(Array.from({ length: opts.workers ?? 2 }, () => addWorker()));

    return {
      sim,
      redisUrl,
      redis,
      prefix,
      webhookUrl,
      webhookSecret,
      get gateway() {
        return gateway;
      },
      startGateway: async () => {
        gateway = await startGateway();
        return gateway;
      },
      workers,
      workDirs,
      metricsUrls,
      addWorker,
      deliver: async (delivery) => {
        const attempt = await sim.deliver(delivery);
        if (attempt.statusCode === 0)
          throw new Error(`could not deliver to ${webhookUrl}: ${attempt.status}`);
        return { status: attempt.statusCode, body: attempt.responseBody };
      },
      close,
    };
  } catch (error) {
    await close();
    throw error;
  }
}
