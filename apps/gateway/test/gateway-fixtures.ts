import {
  type BuildDeliveryOptions,
  buildDelivery,
  deliveryHeaders,
  type WebhookDelivery,
} from '@evalbot/github-sim';
import {
  COMMAND_QUEUE,
  COMPARE_QUEUE,
  EVALUATE_QUEUE,
  type JobProducer,
  type QUEUE_NAMES,
  waitForRedisReady,
} from '@evalbot/jobs';
import { createLogger } from '@evalbot/logger';
import { testPrefix } from '@evalbot/test-utils';
import type { FastifyInstance, LightMyRequestResponse } from 'fastify';
import { buildApp } from '../src/build-app.ts';
import { type GatewayConfig, loadConfig } from '../src/config.ts';

export const SECRET = 'gateway-test-secret-4f1c9a';
export const PREVIOUS_SECRET = 'gateway-previous-secret-77b2';
export const HEAD = 'a1'.repeat(20);
export const BASE = 'b2'.repeat(20);
export const WEBHOOK_PATH = '/api/github/webhooks';

export interface TestGateway {
  app: FastifyInstance;
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
    service: 'gateway',
    level: 'debug',
    destination: { write: (line) => logs.push(line) },
  });
  const app = await buildApp({ config, logger });
  await app.ready();
  const producer = app.jobProducer;
  if (opts.waitForRedis !== false) await waitForRedisReady(producer.connection);
  return {
    app,
    config,
    producer,
    logs,
    close: async () => {
      if (producer.connection.status === 'ready') {
        const keys = await producer.connection.keys(`${config.bullmqPrefix}:*`);
        if (keys.length > 0) await producer.connection.del(...keys);
      }
      await app.close();
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
