import type { ServerOptions } from 'node:http';
import type { GatewayConfig } from './config.ts';

/**
 * The HTTP server's deadlines, as Fastify options. An idle timeout alone does not stop a client
 * that sends one byte every few seconds, so the whole request (headers and body) has a deadline:
 * past it Node answers 408 and closes the connection. Node checks the deadlines every
 * `connectionsCheckingInterval` (30 s by default), so that interval is made a fraction of them:
 * a client is cut off at most a fifth of the deadline late.
 */
export function serverTimeouts(config: Pick<GatewayConfig, 'requestTimeoutMs' | 'headersTimeoutMs'>): {
  requestTimeout: number;
  http: ServerOptions;
} {
  const shortest = Math.min(config.requestTimeoutMs, config.headersTimeoutMs);
  return {
    requestTimeout: config.requestTimeoutMs,
    http: {
      requestTimeout: config.requestTimeoutMs,
      headersTimeout: config.headersTimeoutMs,
      connectionsCheckingInterval: Math.max(20, Math.min(1_000, Math.floor(shortest / 5))),
    },
  };
}
