import type { FastifyError, FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import { BODY_LIMIT_BYTES } from './body-limits.ts';
import type { GatewayConfig } from './config.ts';
import { RedisUnavailableError } from './delivery-recorder.ts';
import { ignoredAnswer, ignoredBeforeParsing } from './ignored-deliveries.ts';
import type { LargeBodyGate } from './large-body-gate.ts';
import { routeDelivery } from './route-delivery.ts';
import { verifySignature } from './verify-signature.ts';

/** The HTTP answer to a delivery: status code, JSON body, and the outcome label for metrics. */
export interface DeliveryAnswer {
  statusCode: number;
  body: Record<string, unknown>;
  outcome: string;
}

const REQUIRED_HEADERS = ['x-github-event', 'x-hub-signature-256', 'x-github-delivery'] as const;

export interface WebhookRouteOptions {
  config: GatewayConfig;
  now: () => Date;
  /** Bounds the large bodies read at once (`MAX_LARGE_BODIES`). */
  largeBodies: LargeBodyGate;
}

function header(request: FastifyRequest, name: string): string | undefined {
  const value = request.headers[name];
  const text = Array.isArray(value) ? value[0] : value;
  return text === undefined || text.trim() === '' ? undefined : text.trim();
}

function rejected(statusCode: number, reason: string, outcome = 'rejected'): DeliveryAnswer {
  return { statusCode, outcome, body: { status: statusCode === 503 ? 'unavailable' : 'rejected', reason } };
}

const EVENT_NAME = /^[a-z_]{1,40}$/;

/**
 * `POST <WEBHOOK_PATH>`: check GitHub's headers, read the raw body, verify its signature, and
 * only then parse and route it. Registered in its own encapsulated scope, so the raw-body
 * content-type parser and error handler apply to this route alone.
 */
const webhookRoute: FastifyPluginAsync<WebhookRouteOptions> = async (app, { config, now, largeBodies }) => {
  const secrets = [config.webhookSecret, config.webhookSecretPrevious].filter((s): s is string => !!s);

  // Keep the bytes: the signature covers them exactly, and nothing is parsed before it is checked.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser(
    'application/json',
    { parseAs: 'buffer', bodyLimit: BODY_LIMIT_BYTES },
    (_req, body, done) => done(null, body),
  );

  const send = (request: FastifyRequest, reply: FastifyReply, event: string, answer: DeliveryAnswer) => {
    app.metrics.deliveries.inc({ event, outcome: answer.outcome });
    const level = answer.statusCode >= 500 ? 'error' : answer.statusCode >= 400 ? 'warn' : 'info';
    // The delivery's one line: what it was, what became of it, how long the answer took.
    request.log[level](
      {
        event,
        status: answer.statusCode,
        outcome: answer.outcome,
        reason: answer.body.reason,
        remoteAddress: request.ip,
        ms: Math.round(reply.elapsedTime * 100) / 100,
      },
      `delivery ${answer.outcome}`,
    );
    return reply.code(answer.statusCode).send(answer.body);
  };

  app.setErrorHandler((error: FastifyError, request, reply) => {
    const contentType = header(request, 'content-type') ?? '(none)';
    if (error.code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE') {
      const form = contentType.startsWith('application/x-www-form-urlencoded');
      return send(
        request,
        reply,
        'unverified',
        rejected(
          415,
          `Unsupported Content-Type "${contentType}": send the payload as application/json${
            form ? ' (set the webhook content type to application/json in the GitHub settings)' : ''
          }`,
        ),
      );
    }
    if (error.code === 'FST_ERR_CTP_BODY_TOO_LARGE') {
      return send(request, reply, 'unverified', rejected(413, 'Payload over the 25 MB GitHub sends at most'));
    }
    const statusCode = error.statusCode ?? 500;
    if (statusCode >= 400 && statusCode < 500) {
      return send(request, reply, 'unverified', rejected(statusCode, error.message));
    }
    request.log.error({ err: error }, 'webhook request failed');
    return send(request, reply, 'unverified', rejected(500, 'internal error; see the gateway log', 'error'));
  });

  app.post(config.webhookPath, {
    // Before the body is read: a request without GitHub's headers is refused cheaply.
    onRequest: async (request, reply) => {
      // Refused before its body is read: close the connection once answered, rather than read
      // (and wait for) a body nobody will look at.
      reply.header('connection', 'close');
      const missing = REQUIRED_HEADERS.filter((name) => header(request, name) === undefined);
      if (missing.length > 0) {
        return send(
          request,
          reply,
          'unverified',
          rejected(400, `Required headers missing: ${missing.join(', ')}`),
        );
      }
      if ((header(request, 'x-github-delivery') ?? '').length > 200) {
        return send(
          request,
          reply,
          'unverified',
          rejected(400, 'X-GitHub-Delivery is longer than a delivery id'),
        );
      }
      // Still before the body is read. Over the 25 MB limit is the body parser's 413; a body of
      // unknown length (chunked) may grow to the limit, so it counts as large.
      const announced = Number(request.headers['content-length']);
      const large = Number.isNaN(announced)
        ? request.headers['transfer-encoding'] !== undefined
        : announced > config.largeBodyBytes && announced <= BODY_LIMIT_BYTES;
      if (large) {
        const release = largeBodies.tryEnter();
        if (!release) {
          // GitHub does not retry by itself; the recovery job asks it to redeliver failed deliveries.
          reply.header('retry-after', '10');
          return send(
            request,
            reply,
            'unverified',
            rejected(
              503,
              `${largeBodies.limit} deliveries over ${config.largeBodyBytes} bytes are being read already (MAX_LARGE_BODIES); retry later`,
              'busy',
            ),
          );
        }
        // 'close' comes once the answer is sent or the connection is gone, whichever way it ends.
        reply.raw.once('close', release);
      }
      reply.removeHeader('connection');
    },
    handler: async (request, reply) => {
      const eventHeader = header(request, 'x-github-event') ?? '';
      const deliveryId = header(request, 'x-github-delivery') ?? '';
      const signature = header(request, 'x-hub-signature-256') ?? '';
      const body = request.body;
      if (!Buffer.isBuffer(body) || body.length === 0) {
        return send(
          request,
          reply,
          'unverified',
          rejected(400, 'The body is empty; expected the JSON payload'),
        );
      }
      if (!verifySignature(body, signature, secrets)) {
        return send(
          request,
          reply,
          'unverified',
          rejected(401, 'X-Hub-Signature-256 does not match the payload signed with the webhook secret'),
        );
      }
      // Verified: the event name comes from GitHub, but is still bounded before it labels a metric.
      const event = EVENT_NAME.test(eventHeader) ? eventHeader : 'other';
      // Most of what an App is sent (push, check_run, status, pull_request.opened...) is never
      // acted on: answered from the header and the leading action, without parsing a body that
      // can be megabytes.
      const ignoredEarly = ignoredBeforeParsing(eventHeader, body);
      if (ignoredEarly !== undefined) return send(request, reply, event, ignoredAnswer(ignoredEarly));
      let payload: unknown;
      try {
        payload = JSON.parse(body.toString('utf8'));
      } catch (error) {
        return send(
          request,
          reply,
          event,
          rejected(400, `The body is not JSON: ${(error as Error).message}`),
        );
      }
      const receivedAt = now();
      const decision = routeDelivery({ event: eventHeader, deliveryId, payload, now: receivedAt }, config);
      switch (decision.kind) {
        case 'ping':
          return send(request, reply, event, {
            statusCode: 200,
            outcome: 'ping',
            body: { status: 'ok', reason: 'pong' },
          });
        case 'ignore':
          return send(request, reply, event, ignoredAnswer(decision.reason));
        case 'invalid':
          return send(request, reply, event, rejected(400, decision.reason));
      }
      const started = process.hrtime.bigint();
      let answer: DeliveryAnswer;
      try {
        // The router (a worker) orders, deduplicates and enqueues; here the delivery is only recorded.
        await app.deliveryRecorder.record({
          deliveryId,
          event: eventHeader,
          action: decision.action,
          receivedAt: receivedAt.toISOString(),
          work: decision.work,
        });
        answer = { statusCode: 202, outcome: 'recorded', body: { status: 'recorded', deliveryId } };
      } catch (error) {
        const reason =
          error instanceof RedisUnavailableError
            ? error.message
            : `could not record the delivery: ${(error as Error).message}`;
        answer = rejected(503, reason, 'unavailable');
      }
      app.metrics.enqueueSeconds.observe(
        { outcome: answer.outcome },
        Number(process.hrtime.bigint() - started) / 1e9,
      );
      if (answer.statusCode === 503) reply.header('retry-after', '10');
      return send(request, reply, event, answer);
    },
  });
};

export default webhookRoute;
