import type { FastifyInstance } from 'fastify';

/** Longest path written to the log; a longer one is cut (a URL can be as long as the headers). */
const LOGGED_PATH_CHARS = 200;

/**
 * Every request to no route of `app` (a path other than `WEBHOOK_PATH` and `/healthz`, or another
 * method): answered 404 before its body is read — only the webhook route reads bodies, within its
 * limits — with one log line (method, path, status). It is a warning when the request carries
 * `X-GitHub-Event`: a delivery from GitHub whose webhook URL does not end in `WEBHOOK_PATH`,
 * which GitHub's Recent Deliveries show only as 404. The query string is never logged.
 */
export function answerUnknownPaths(app: FastifyInstance, webhookPath: string): void {
  app.addHook('onRequest', async (request, reply) => {
    if (!request.is404) return;
    const path = request.url.split('?', 1)[0] ?? '';
    const logged = path.length > LOGGED_PATH_CHARS ? `${path.slice(0, LOGGED_PATH_CHARS)}…` : path;
    const line = { method: request.method, path: logged, status: 404, remoteAddress: request.ip };
    if (request.headers['x-github-event'] !== undefined && path !== webhookPath) {
      request.log.warn(
        line,
        `a GitHub delivery to ${logged}, not WEBHOOK_PATH ${webhookPath}: make the App's webhook URL end in ${webhookPath} (or set WEBHOOK_PATH)`,
      );
    } else {
      request.log.info(line, 'no such route');
    }
    // Its body is not read: close the connection once answered rather than wait for it.
    reply.header('connection', 'close');
    return reply
      .code(404)
      .send({ message: `Route ${request.method}:${logged} not found`, error: 'Not Found', statusCode: 404 });
  });
}
