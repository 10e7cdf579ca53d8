import type { FastifyPluginAsync } from 'fastify';
import type { Redis } from 'ioredis';

/** `GET /healthz`: the process answers (liveness). Served on the public and the internal port. */
export const livenessRoute: FastifyPluginAsync = async (app) => {
  app.get('/healthz', async () => ({ status: 'ok' }));
};

/**
 * `GET /readyz`: Redis answers a PING within `timeoutMs` (readiness: a load balancer should send
 * deliveries elsewhere meanwhile). Internal port only: it tells the world whether Redis is down.
 */
export const readinessRoute: FastifyPluginAsync<{ redis: Redis; timeoutMs: number }> = async (app, opts) => {
  app.get('/readyz', async (_request, reply) => {
    const { redis } = opts;
    if (redis.status !== 'ready') {
      return reply.code(503).send({ status: 'unavailable', reason: `Redis connection is ${redis.status}` });
    }
    let timer: NodeJS.Timeout | undefined;
    try {
      await Promise.race([
        redis.ping(),
        new Promise((_, reject) => {
          timer = setTimeout(() => reject(new Error(`no PONG within ${opts.timeoutMs} ms`)), opts.timeoutMs);
        }),
      ]);
      return { status: 'ready' };
    } catch (error) {
      return reply.code(503).send({ status: 'unavailable', reason: `Redis: ${(error as Error).message}` });
    } finally {
      clearTimeout(timer);
    }
  });
};
