import type { FastifyPluginAsync } from 'fastify';

/**
 * `GET /healthz`: the process answers (liveness). `GET /readyz`: Redis answers a PING within
 * `timeoutMs` (readiness: a load balancer should send deliveries elsewhere meanwhile).
 */
const healthRoutes: FastifyPluginAsync<{ timeoutMs: number }> = async (app, opts) => {
  app.get('/healthz', async () => ({ status: 'ok' }));
  app.get('/readyz', async (_request, reply) => {
    const redis = app.jobProducer.connection;
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

export default healthRoutes;
