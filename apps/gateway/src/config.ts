import {
  ConfigError,
  type Env,
  envInt,
  envOptionalId,
  evaluateLabelEnv,
  githubEndpointEnv,
  logEnv,
  parseEnv,
  prefixEnv,
  type RedisTarget,
  redisEnv,
  redisTargetOf,
  webhookEndpointEnv,
} from '@evalbot/config';
import { z } from 'zod';
import { BODY_LIMIT_BYTES } from './body-limits.ts';

const schema = z.object({
  WEBHOOK_SECRET: z.string({
    error: 'is required; set it to the webhook secret entered in the GitHub App settings',
  }),
  WEBHOOK_SECRET_PREVIOUS: z.string().optional(),
  ...redisEnv,
  ...webhookEndpointEnv,
  HOST: z.string().default('0.0.0.0'),
  ...evaluateLabelEnv,
  ...githubEndpointEnv,
  ...logEnv,
  INSTALL_ID: envOptionalId('not an installation id (a positive whole number)'),
  ENQUEUE_TIMEOUT_MS: envInt({ default: 2_000, min: 50, max: 60_000 }),
  ...prefixEnv,
  // GitHub gives up on a delivery after 10 s; a client still sending after these is cut off.
  REQUEST_TIMEOUT_MS: envInt({ default: 30_000, min: 100, max: 600_000 }),
  HEADERS_TIMEOUT_MS: envInt({ default: 10_000, min: 100, max: 600_000 }),
  LARGE_BODY_BYTES: envInt({ default: 1024 * 1024, min: 1024, max: BODY_LIMIT_BYTES }),
  MAX_LARGE_BODIES: envInt({ default: 4, min: 1, max: 1_000 }),
  // Connections open at once; beyond, a new one is closed unanswered. With the body slots this
  // bounds what unverified clients can make the gateway hold (see docs/operations.md).
  MAX_CONNECTIONS: envInt({ default: 256, min: 1, max: 100_000 }),
  GATEWAY_METRICS_PORT: envInt({ default: 9465, min: 0, max: 65_535 }),
  // Loopback unless asked: /metrics and /readyz are for the operator, not the internet.
  GATEWAY_METRICS_HOST: z.string().default('127.0.0.1'),
});

/** The gateway's settings, parsed once from the environment. */
export interface GatewayConfig {
  webhookSecret: string;
  /** Also accepted while rotating the secret; unset once GitHub uses the new one. */
  webhookSecretPrevious?: string;
  /** Where Redis is and how to trust it (`REDIS_URL`, `REDIS_TLS_CA_FILE`, `REDIS_SENTINELS`…). */
  redis: RedisTarget;
  port: number;
  host: string;
  webhookPath: string;
  /** Matched case-insensitively. */
  evaluateLabel: string;
  githubUrl: string;
  githubApiUrl: string;
  logLevel: string;
  /** Used only for a payload without `installation`. */
  installId?: number;
  /** Upper bound on the Redis work of one delivery; past it the gateway answers 503. */
  enqueueTimeoutMs: number;
  bullmqPrefix: string;
  /** Deadline to receive a whole request, headers and body: a client trickling bytes is cut off (408). */
  requestTimeoutMs: number;
  /** Deadline to receive the headers of a request (≤ `requestTimeoutMs`; by default 10 s or that). */
  headersTimeoutMs: number;
  /** A body announced larger than this (or without a Content-Length) takes one of `maxLargeBodies` slots. */
  largeBodyBytes: number;
  /** Large bodies read at once; one more is refused with 503 + Retry-After, small ones never are. */
  maxLargeBodies: number;
  /** Connections open at once (Node's `server.maxConnections`); beyond, new ones are closed. */
  maxConnections: number;
  /** Port of `/metrics`, `/readyz` and `/healthz`, apart from the public webhook port; 0: not served. */
  metricsPort: number;
  metricsHost: string;
}

/**
 * Read the gateway's configuration from `env`. Throws a `ConfigError` naming every bad or
 * missing variable and how to fix it.
 */
export function loadConfig(env: Env = process.env): GatewayConfig {
  const parsed = parseEnv(schema, env);
  // The default gives way to a shorter REQUEST_TIMEOUT_MS; a value set on purpose does not.
  const headersTimeoutSet = (env.HEADERS_TIMEOUT_MS ?? '').trim() !== '';
  const headersTimeoutMs = headersTimeoutSet
    ? parsed.HEADERS_TIMEOUT_MS
    : Math.min(parsed.HEADERS_TIMEOUT_MS, parsed.REQUEST_TIMEOUT_MS);
  if (headersTimeoutMs > parsed.REQUEST_TIMEOUT_MS) {
    throw new ConfigError([
      {
        variable: 'HEADERS_TIMEOUT_MS',
        problem: `${parsed.HEADERS_TIMEOUT_MS} is longer than REQUEST_TIMEOUT_MS (${parsed.REQUEST_TIMEOUT_MS}), which the headers are part of; lower it or raise REQUEST_TIMEOUT_MS`,
      },
    ]);
  }
  if (parsed.GATEWAY_METRICS_PORT !== 0 && parsed.GATEWAY_METRICS_PORT === parsed.PORT) {
    throw new ConfigError([
      {
        variable: 'GATEWAY_METRICS_PORT',
        problem: `${parsed.GATEWAY_METRICS_PORT} is also PORT, the public webhook port; give /metrics and /readyz a port of their own (default 9465)`,
      },
    ]);
  }
  const redis = redisTargetOf(parsed);
  return {
    webhookSecret: parsed.WEBHOOK_SECRET,
    webhookSecretPrevious: parsed.WEBHOOK_SECRET_PREVIOUS,
    redis,
    port: parsed.PORT,
    host: parsed.HOST,
    webhookPath: parsed.WEBHOOK_PATH,
    evaluateLabel: parsed.EVALUATE_LABEL,
    githubUrl: parsed.GITHUB_URL,
    githubApiUrl: parsed.GITHUB_API_URL,
    logLevel: parsed.LOG_LEVEL,
    installId: parsed.INSTALL_ID,
    enqueueTimeoutMs: parsed.ENQUEUE_TIMEOUT_MS,
    bullmqPrefix: parsed.BULLMQ_PREFIX,
    requestTimeoutMs: parsed.REQUEST_TIMEOUT_MS,
    headersTimeoutMs,
    largeBodyBytes: parsed.LARGE_BODY_BYTES,
    maxLargeBodies: parsed.MAX_LARGE_BODIES,
    maxConnections: parsed.MAX_CONNECTIONS,
    metricsPort: parsed.GATEWAY_METRICS_PORT,
    metricsHost: parsed.GATEWAY_METRICS_HOST,
  };
}
