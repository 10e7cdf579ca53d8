import {
  type BuildDeliveryOptions,
  buildDelivery,
  deliveryHeaders,
  type WebhookDelivery,
} from '@evalbot/github-sim';
import {
  COMMAND_QUEUE,
  COMPARE_QUEUE,
  DELIVERY_QUEUE,
  deliveryJobIdOf,
  deliveryJobSchema,
  EVALUATE_QUEUE,
  type JobProducer,
  type QUEUE_NAMES,
  type RoutedDelivery,
  routeRecordedDelivery,
  waitForRedisReady,
} from '@evalbot/jobs';
import { createLogger } from '@evalbot/logger';
import { sharedRedis, testPrefix } from '@evalbot/test-utils';
import type { FastifyInstance, LightMyRequestResponse } from 'fastify';
import { afterAll, afterEach, beforeAll, beforeEach } from 'vitest';
import { buildApp } from '../src/build-app.ts';
import { type GatewayConfig, loadConfig } from '../src/config.ts';
import { buildInternalApp } from '../src/internal-app.ts';

export const SECRET = 'gateway-test-secret-4f1c9a';
export const PREVIOUS_SECRET = 'gateway-previous-secret-77b2';
export const HEAD = 'a1'.repeat(20);
export const BASE = 'b2'.repeat(20);
export const WEBHOOK_PATH = '/api/github/webhooks';

export interface TestGateway {
  /** The public app: the webhook path and /healthz. */
  app: FastifyInstance;
  /** The internal app: /metrics, /readyz, /healthz. */
  internal: FastifyInstance;
  config: GatewayConfig;
  producer: JobProducer;
  /** Every JSON log line written so far, as text. */
  logs: string[];
  close(): Promise<void>;
}

/** A gateway on `redisUrl` with its own BullMQ prefix and captured logs. */
export async function startGateway(
  redisUrl: string,
  env: Record<string, string> = {},
  opts: { waitForRedis?: boolean } = {},
): Promise<TestGateway> {
  const config = loadConfig({
    WEBHOOK_SECRET: SECRET,
    REDIS_URL: redisUrl,
    BULLMQ_PREFIX: testPrefix(),
    LOG_LEVEL: 'debug',
    ...env,
  });
  const logs: string[] = [];
  const logger = createLogger({
    service: 'evalbot-gateway',
    level: 'debug',
    destination: { write: (line) => logs.push(line) },
  });
  const app = await buildApp({ config, logger });
  await app.ready();
  const internal = await buildInternalApp(app, { config, logger });
  await internal.ready();
  const producer = app.jobProducer;
  if (opts.waitForRedis !== false) await waitForRedisReady(producer.connection);
  return {
    app,
    internal,
    config,
    producer,
    logs,
    close: async () => {
      if (producer.connection.status === 'ready') {
        const keys = await producer.connection.keys(`${config.bullmqPrefix}:*`);
        if (keys.length > 0) await producer.connection.del(...keys);
      }
      await internal.close();
      await app.close();
    },
  };
}

/** The gateway of the running test, as {@link useGateway} hands it out. */
export interface GatewayPerTest extends Omit<TestGateway, 'close'> {
  /** The shared Redis every gateway of the file uses. */
  readonly redisUrl: string;
  /** Close this test's gateway and start another with `env` on top of the file's. */
  restart(env: Record<string, string>): Promise<void>;
}

/**
 * Registers hooks that start a fresh gateway ({@link startGateway} with `env`) on the shared
 * Redis before each test of the file and close it after; `beforeClose` runs first, while the
 * gateway is still up. Read the returned object's fields inside tests.
 */
export function useGateway(
  env: Record<string, string> = {},
  opts: { beforeClose?: (gw: TestGateway) => Promise<void> } = {},
): GatewayPerTest {
  let redis: { url: string; close: () => Promise<void> } | undefined;
  let current: TestGateway | undefined;
  const redisUrl = () => {
    if (!redis) throw new Error('useGateway(): Redis is started in beforeAll; use it inside a test');
    return redis.url;
  };
  const gw = () => {
    if (!current) throw new Error('useGateway(): the gateway exists only while a test runs');
    return current;
  };
  beforeAll(async () => {
    redis = await sharedRedis();
  });
  afterAll(async () => redis?.close());
  beforeEach(async () => {
    current = await startGateway(redisUrl(), env);
  });
  afterEach(async () => {
    const closing = current;
    current = undefined;
    if (!closing) return;
    try {
      await opts.beforeClose?.(closing);
    } finally {
      await closing.close();
    }
  });
  return {
    get redisUrl() {
      return redisUrl();
    },
    get app() {
      return gw().app;
    },
    get internal() {
      return gw().internal;
    },
    get config() {
      return gw().config;
    },
    get producer() {
      return gw().producer;
    },
    get logs() {
      return gw().logs;
    },
    async restart(more) {
      const closing = gw();
      current = undefined;
      await closing.close();
      current = await startGateway(redisUrl(), { ...env, ...more });
    },
  };
}

/** A delivery built from GitHub's example payloads for the default test repo and PR. */
export function delivery(
  event: string,
  action: string | undefined,
  overrides: Partial<BuildDeliveryOptions> & { labels?: string[] } = {},
): WebhookDelivery {
  const { labels, ...rest } = overrides;
  return buildDelivery({
    event,
    action,
    repo: { owner: 'octo-org', name: 'hello-ml' },
    pullRequest: { number: 7, headSha: HEAD, baseSha: BASE, headRef: 'wider-net', author: 'alice', labels },
    installationId: 4242,
    sender: 'alice',
    ...rest,
  });
}

/** POST a delivery through `app.inject()` signed with `secret`; `headers` override or (undefined) remove. */
export async function send(
  app: FastifyInstance,
  d: WebhookDelivery,
  opts: { secret?: string; headers?: Record<string, string | undefined>; body?: string | Buffer } = {},
): Promise<LightMyRequestResponse> {
  const headers: Record<string, string> = {};
  const signed = await deliveryHeaders(d, opts.secret ?? SECRET);
  for (const [name, value] of Object.entries({ ...signed, ...opts.headers })) {
    if (value !== undefined) headers[name.toLowerCase()] = value;
  }
  for (const [name, value] of Object.entries(opts.headers ?? {})) {
    if (value === undefined) delete headers[name.toLowerCase()];
  }
  return app.inject({ method: 'POST', url: WEBHOOK_PATH, headers, payload: opts.body ?? d.body });
}

/** Every job in every evalbot queue, by queue. */
export async function allJobs(producer: JobProducer) {
  const states = [
    'waiting',
    'waiting-children',
    'delayed',
    'active',
    'prioritized',
    'completed',
    'failed',
  ] as const;
  const read = async (name: (typeof QUEUE_NAMES)[number]) =>
    (await producer.queues[name].getJobs([...states])).filter(Boolean);
  return {
    compare: await read(COMPARE_QUEUE),
    evaluate: await read(EVALUATE_QUEUE),
    command: await read(COMMAND_QUEUE),
  };
}

export async function jobCount(producer: JobProducer): Promise<number> {
  const jobs = await allJobs(producer);
  return jobs.compare.length + jobs.evaluate.length + jobs.command.length;
}

/** The delivery log: every recorded delivery, by job id. */
export async function deliveryLog(producer: JobProducer) {
  return (await producer.queues[DELIVERY_QUEUE].getJobs(['waiting', 'active', 'completed', 'failed'])).filter(
    Boolean,
  );
}

/**
 * What the worker's router makes of a recorded delivery: the job the gateway wrote for
 * `deliveryId`, parsed by the catalog and routed here (as the worker's processor does).
 */
export async function routeRecorded(producer: JobProducer, deliveryId: string): Promise<RoutedDelivery> {
  const job = await producer.queues[DELIVERY_QUEUE].getJob(deliveryJobIdOf(deliveryId));
  if (!job) throw new Error(`delivery ${deliveryId} was not recorded`);
  return routeRecordedDelivery(producer, deliveryJobSchema.parse(job.data));
}

/** POST a delivery, expect it recorded (202), and route it: the answer and what became of it. */
export async function sendAndRoute(
  gw: { app: FastifyInstance; producer: JobProducer },
  d: WebhookDelivery,
): Promise<{ res: LightMyRequestResponse; routed: RoutedDelivery }> {
  const res = await send(gw.app, d);
  if (res.statusCode !== 202 || res.json().status !== 'recorded') {
    throw new Error(`delivery ${d.id} was not recorded: ${res.statusCode} ${res.body}`);
  }
  return { res, routed: await routeRecorded(gw.producer, d.id) };
}
