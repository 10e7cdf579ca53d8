import { createBullBoard } from '@bull-board/api';
import { BullMQAdapter } from '@bull-board/api/bullMQAdapter';
import { FastifyAdapter } from '@bull-board/fastify';
import {
  COMMAND_QUEUE,
  COMPARE_QUEUE,
  DELIVERY_QUEUE,
  EVALUATE_QUEUE,
  poolOfQueue,
  QUEUE_NAMES,
  RECOVERY_QUEUE,
} from '@evalbot/jobs';
import type { Logger } from '@evalbot/logger';
import { Queue } from 'bullmq';
import Fastify, { type FastifyBaseLogger, type FastifyInstance, LogController } from 'fastify';
import type { Redis } from 'ioredis';
import { registerAuthentication, registerCrossSiteGuard } from './authenticate.ts';
import type { DashboardConfig } from './config.ts';
import { createDashboardMetrics } from './dashboard-metrics.ts';
import { jobTitle, pullRequestLink } from './job-display.ts';
import { poolQueueNames } from './pool-queues.ts';

export interface DashboardDeps {
  config: Pick<DashboardConfig, 'prefix' | 'basePath' | 'credentials'>;
  /** Shared by the board's queues; the caller owns it and closes it after the app. */
  connection: Redis;
  logger?: Logger;
}

const QUEUE_DESCRIPTIONS: Record<string, string> = {
  [DELIVERY_QUEUE]:
    'The delivery log: what GitHub sent (one job per delivery id) and what the router made of it',
  [EVALUATE_QUEUE]: 'One side of a pull request: clone, environment, training, metrics',
  [COMPARE_QUEUE]: 'Compare head with base and publish the PR comment and check run',
  [COMMAND_QUEUE]: '/evaluate comments: check the commenter may ask, then enqueue the evaluation',
  [RECOVERY_QUEUE]: 'Asks GitHub to redeliver deliveries the gateway could not take (Redis or gateway down)',
};

/** Unauthenticated liveness probe for the container healthcheck; it tells nothing about the jobs. */
export const HEALTH_PATH = '/healthz';

/**
 * The dashboard: Bull Board over evalbot's queues, behind authentication. Jobs can be retried
 * from the UI. Nothing is listening yet; call `listen` on the result.
 */
export async function buildApp(deps: DashboardDeps): Promise<FastifyInstance> {
  const { config, connection } = deps;
  const app: FastifyInstance = Fastify({
    // A pino Logger is a FastifyBaseLogger; naming the wider type keeps FastifyInstance's default generics.
    loggerInstance: deps.logger as FastifyBaseLogger | undefined,
    // The open page polls the API every few seconds and loads static files; those lines are noise.
    logController: new LogController({
      disableRequestLogging: (request) => /\/(api|static)\//.test(request.url) || request.url === HEALTH_PATH,
    }),
  });

  const queues: Queue[] = QUEUE_NAMES.map((name) => new Queue(name, { connection, prefix: config.prefix }));
  app.addHook('onClose', async () => {
    await Promise.all(queues.map((queue) => queue.close()));
  });

  const adapterOf = (queue: Queue) => {
    const adapter = new BullMQAdapter(queue, {
      readOnlyMode: false,
      allowRetries: true,
      description:
        QUEUE_DESCRIPTIONS[queue.name] ??
        `Sides the base branch's resources send to the "${poolOfQueue(queue.name)}" worker pool`,
      // Bull Board's type wants a link for every job, but its response schema and UI accept none;
      // a job that is not about a PR (none today) simply gets no link.
      externalJobUrl: (job) => pullRequestLink(job) as { href: string },
    });
    adapter.setFormatter('name', jobTitle);
    return adapter;
  };

  const serverAdapter = new FastifyAdapter();
  const prefix = config.basePath.replace(/\/$/, '');
  serverAdapter.setBasePath(config.basePath);
  const board = createBullBoard({
    queues: queues.map(adapterOf),
    serverAdapter,
    options: { uiConfig: { boardTitle: 'evalbot' } },
  });
  // Worker pools' queues join the board (and /metrics) once they exist, looked for at most
  // every 10 s when the board or /metrics is asked.
  let discoveredAt = 0;
  const discoverPoolQueues = async () => {
    if (Date.now() - discoveredAt < 10_000) return;
    discoveredAt = Date.now();
    for (const name of await poolQueueNames(connection, config.prefix)) {
      if (queues.some((queue) => queue.name === name)) continue;
      const queue = new Queue(name, { connection, prefix: config.prefix });
      queues.push(queue);
      board.addQueue(adapterOf(queue));
    }
  };

  // Behind the same authentication as the board: Prometheus sends DASHBOARD_TOKEN as a bearer
  // token (`authorization: { credentials_file: … }`) or DASHBOARD_USER/PASSWORD (`basic_auth`).
  const metrics = createDashboardMetrics(queues);
  app.get(`${prefix}/metrics`, async (_request, reply) => {
    await discoverPoolQueues();
    const body = await metrics.metrics();
    return reply.type(metrics.contentType).send(body);
  });

  app.get(HEALTH_PATH, async (_request, reply) => {
    try {
      await connection.ping();
      return { ok: true };
    } catch {
      return reply.code(503).send({ ok: false, error: 'Redis does not answer' });
    }
  });

  registerAuthentication(app, {
    credentials: config.credentials,
    basePath: config.basePath,
    publicPaths: [HEALTH_PATH],
  });
  registerCrossSiteGuard(app);
  // After authentication: an unauthenticated request never makes the dashboard scan Redis.
  app.addHook('onRequest', async (request) => {
    if (request.url.startsWith(`${prefix}/api/queues`)) await discoverPoolQueues();
  });
  await app.register(serverAdapter.registerPlugin(), { prefix });
  return app;
}
