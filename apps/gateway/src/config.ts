import {
  type Env,
  envInt,
  evaluateLabelEnv,
  githubEndpointEnv,
  logEnv,
  parseEnv,
  prefixEnv,
  redisEnv,
  redisTargetOf,
} from '@evalbot/config';
import { z } from 'zod';

const schema = z.object({
  WEBHOOK_SECRET: z.string({
    error: 'is required; set it to the webhook secret entered in the GitHub App settings',
  }),
  WEBHOOK_SECRET_PREVIOUS: z.string().optional(),
  ...redisEnv,
  PORT: envInt({ default: 3000, min: 0, max: 65_535 }),
  HOST: z.string().default('0.0.0.0'),
  WEBHOOK_PATH: z
    .string()
    .default('/api/github/webhooks')
    .refine((v) => /^\/[^\s?#]*$/.test(v), 'must be a URL path starting with /, e.g. /api/github/webhooks'),
  ...evaluateLabelEnv,
  ...githubEndpointEnv,
  ...logEnv,
  INSTALL_ID: z
    .string()
    .optional()
    .transform((raw, ctx) => {
      if (raw === undefined) return undefined;
      const id = Number(raw.trim());
      if (!Number.isSafeInteger(id) || id <= 0) {
        ctx.addIssue({
          code: 'custom',
          message: `"${raw}" is not an installation id (a positive whole number)`,
        });
        return z.NEVER;
      }
      return id;
    }),
  ENQUEUE_TIMEOUT_MS: envInt({ default: 2_000, min: 50, max: 60_000 }),
  ...prefixEnv,
});

/** The gateway's settings, parsed once from the environment. */
export interface GatewayConfig {
  webhookSecret: string;
  /** Also accepted while rotating the secret; unset once GitHub uses the new one. */
  webhookSecretPrevious?: string;
  redisUrl: string;
  /** PEM of the CA that signed a `rediss://` Redis's certificate (`REDIS_TLS_CA_FILE`). */
  redisTlsCa?: string;
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
}

/**
 * Read the gateway's configuration from `env`. Throws a `ConfigError` naming every bad or
 * missing variable and how to fix it.
 */
export function loadConfig(env: Env = process.env): GatewayConfig {
  const parsed = parseEnv(schema, env);
  const redis = redisTargetOf(parsed);
  return {
    webhookSecret: parsed.WEBHOOK_SECRET,
    webhookSecretPrevious: parsed.WEBHOOK_SECRET_PREVIOUS,
    redisUrl: redis.url,
    ...(redis.tlsCa ? { redisTlsCa: redis.tlsCa } : {}),
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
  };
}
