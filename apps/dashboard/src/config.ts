import {
  ConfigError,
  type Env,
  envInt,
  logEnv,
  parseEnv,
  prefixEnv,
  type RedisTarget,
  redisEnv,
  redisTargetOf,
} from '@evalbot/config';
import { z } from 'zod';

const schema = z.object({
  ...redisEnv,
  ...logEnv,
  ...prefixEnv,
  DASHBOARD_PORT: envInt({ default: 3001, min: 0, max: 65_535 }),
  DASHBOARD_HOST: z.string().default('127.0.0.1'),
  /** Where the board is mounted, for a reverse proxy that serves it under a sub-path. */
  DASHBOARD_BASE_PATH: z
    .string()
    .default('/')
    .refine((v) => v.startsWith('/'), 'must start with "/", e.g. /evalbot'),
  DASHBOARD_USER: z.string().optional(),
  DASHBOARD_PASSWORD: z.string().optional(),
  DASHBOARD_TOKEN: z
    .string()
    .min(16, 'is too short; use at least 16 random characters, e.g. `openssl rand -hex 24`')
    .optional(),
});

/** Who may open the dashboard. Empty only when it listens on loopback. */
export interface DashboardCredentials {
  basic?: { user: string; password: string };
  token?: string;
}

export interface DashboardConfig {
  /** Where Redis is and how to trust it (`REDIS_URL`, `REDIS_TLS_CA_FILE`, `REDIS_SENTINELS`…). */
  redis: RedisTarget;
  prefix: string;
  host: string;
  port: number;
  /** Mount path of the board, always ending in `/`. */
  basePath: string;
  logLevel: string;
  credentials: DashboardCredentials;
}

/** True for addresses only this machine can reach. */
export function isLoopbackHost(host: string): boolean {
  const h = host
    .trim()
    .toLowerCase()
    .replace(/^\[|\]$/g, '');
  return h === 'localhost' || h === '::1' || /^127(\.\d{1,3}){3}$/.test(h);
}

/**
 * Read the dashboard's configuration. Throws a {@link ConfigError} naming every bad variable;
 * in particular it refuses to listen beyond loopback without credentials, since the board can
 * retry and delete jobs and shows PR data.
 */
export function loadConfig(env: Env = process.env): DashboardConfig {
  const problems: { variable: string; problem: string }[] = [];
  let parsed: z.output<typeof schema> | undefined;
  try {
    parsed = parseEnv(schema, env);
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    // Go on with the credential checks, so that one message names every problem.
    problems.push(...error.problems);
  }
  const user = env.DASHBOARD_USER?.trim() || undefined;
  const password = env.DASHBOARD_PASSWORD || undefined;
  if (user && !password) {
    problems.push({ variable: 'DASHBOARD_PASSWORD', problem: 'is required when DASHBOARD_USER is set' });
  }
  if (password && !user) {
    problems.push({ variable: 'DASHBOARD_USER', problem: 'is required when DASHBOARD_PASSWORD is set' });
  }
  if (user?.includes(':')) {
    problems.push({
      variable: 'DASHBOARD_USER',
      problem: 'must not contain ":" (HTTP Basic cannot carry it)',
    });
  }

  const credentials: DashboardCredentials = {};
  if (user && password) credentials.basic = { user, password };
  if (parsed?.DASHBOARD_TOKEN) credentials.token = parsed.DASHBOARD_TOKEN;

  if (
    !credentials.basic &&
    !credentials.token &&
    parsed &&
    problems.length === 0 &&
    !isLoopbackHost(parsed.DASHBOARD_HOST)
  ) {
    problems.push({
      variable: 'DASHBOARD_USER/DASHBOARD_PASSWORD or DASHBOARD_TOKEN',
      problem: `the dashboard listens on ${parsed.DASHBOARD_HOST}, beyond this machine, so it needs credentials: set DASHBOARD_USER and DASHBOARD_PASSWORD (HTTP Basic), or DASHBOARD_TOKEN, or bind DASHBOARD_HOST to 127.0.0.1`,
    });
  }
  if (!parsed || problems.length > 0) throw new ConfigError(problems);

  const redis = redisTargetOf(parsed);
  const base = parsed.DASHBOARD_BASE_PATH.replace(/\/+$/, '');
  return {
    redis,
    prefix: parsed.BULLMQ_PREFIX,
    host: parsed.DASHBOARD_HOST,
    port: parsed.DASHBOARD_PORT,
    basePath: `${base}/`,
    logLevel: parsed.LOG_LEVEL,
    credentials,
  };
}
