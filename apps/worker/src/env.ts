import { homedir, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import {
  ConfigError,
  type Env,
  envInt,
  evaluateLabelEnv,
  type GitHubAppCredentials,
  githubEndpointEnv,
  loadGitHubAppCredentials,
  logEnv,
  parseEnv,
  prefixEnv,
  type RedisTarget,
  redisEnv,
  redisTargetOf,
  type SandboxSettingsFromEnv,
  sandboxEnv,
  sandboxSettingsOf,
} from '@evalbot/config';
import { z } from 'zod';

const schema = z.object({
  ...redisEnv,
  ...logEnv,
  ...githubEndpointEnv,
  ...prefixEnv,
  ...evaluateLabelEnv,
  WORKER_CONCURRENCY: envInt({ default: 1, min: 1, max: 64 }),
  /** Recorded deliveries routed at once (each a few Redis round trips). */
  ROUTER_CONCURRENCY: envInt({ default: 8, min: 1, max: 256 }),
  /** How often failed deliveries are looked for and redelivered; 0 turns recovery off. */
  DELIVERY_RECOVERY_INTERVAL_SECONDS: envInt({ default: 300, min: 0, max: 24 * 3600 }),
  EVALBOT_WORK_DIR: z.string().default(join(tmpdir(), 'evalbot-work')),
  /** Whole job logs on disk; default `evalbot-job-logs` beside EVALBOT_WORK_DIR (not in it: it holds job directories only). */
  EVALBOT_JOB_LOG_DIR: z.string().optional(),
  EVALBOT_JOB_LOG_MAX_MB: envInt({ default: 1024, min: 1, max: 1024 * 1024 }),
  EVALBOT_JOB_LOG_FILE_MAX_MB: envInt({ default: 64, min: 1, max: 1024 * 1024 }),
  // A root worker's home is not reachable by the sandbox uids that read the environments.
  EVALBOT_CACHE_DIR: z
    .string()
    .default(process.getuid?.() === 0 ? '/var/cache/evalbot' : join(homedir(), '.cache', 'evalbot')),
  EVALBOT_MAX_TIMEOUT_MINUTES: envInt({ default: 60, min: 1, max: 24 * 60 }),
  BASE_CACHE_TTL_HOURS: envInt({ default: 168, min: 0, max: 24 * 365 }),
  WORKER_METRICS_PORT: envInt({ default: 9464, min: 0, max: 65535 }),
  // Loopback unless asked: /metrics is for the operator's Prometheus, not the internet.
  WORKER_METRICS_HOST: z.string().default('127.0.0.1'),
  /** How long a job's lock lives without renewal: after a worker dies, its job is retried this much later. */
  WORKER_LOCK_DURATION_MS: envInt({ default: 30_000, min: 1000, max: 600_000 }),
  /** Removed: one uid shared by every job let PR code reach other jobs. */
  EVALBOT_RUN_AS_USER: z
    .string()
    .optional()
    .refine(
      (v) => v === undefined || v.trim() === '',
      'is no longer used: PR code now runs in a sandbox with a uid of its own per job, from EVALBOT_SANDBOX_UIDS (default 50000-50999); remove EVALBOT_RUN_AS_USER',
    ),
  ...sandboxEnv,
  EVALBOT_PYTHON: z.string().min(1).default('python3'),
});

export interface WorkerConfig {
  redisUrl: string;
  /** PEM of the CA that signed a `rediss://` Redis's certificate (`REDIS_TLS_CA_FILE`). */
  redisTlsCa?: string;
  prefix: string;
  logLevel: string;
  apiUrl: string;
  githubUrl: string;
  evaluateLabel: string;
  app: GitHubAppCredentials;
  concurrency: number;
  routerConcurrency: number;
  /** 0: no recovery job (see `DELIVERY_RECOVERY_INTERVAL_SECONDS`). */
  recoveryIntervalMs: number;
  workDir: string;
  cacheDir: string;
  /** Each job's whole log, rotated by size per file and pruned by total size. */
  jobLogs: { dir: string; maxFileBytes: number; maxTotalBytes: number };
  maxTimeoutMs: number;
  baseCacheTtlSeconds: number;
  metricsPort: number;
  metricsHost: string;
  lockDurationMs: number;
  /** The sandbox's uids and limits; undefined: EVALBOT_UNSAFE_NO_SANDBOX, PR code runs uncontained. */
  sandbox: SandboxSettingsFromEnv | undefined;
  /** The interpreter environments are built with. */
  python: string;
  /** Environment variables passed through to pip (mirrors). */
  pipEnv: Record<string, string>;
}

const PIP_PASSTHROUGH = ['PIP_INDEX_URL', 'PIP_EXTRA_INDEX_URL', 'PIP_FIND_LINKS', 'PIP_TRUSTED_HOST'];

/** Parse the worker's configuration once, at start-up. Throws a ConfigError naming every bad variable. */
export function loadConfig(env: Env = process.env): WorkerConfig {
  // Collect the problems of both parts so one start-up error lists every bad variable.
  const problems: ConfigError['problems'] = [];
  let parsed: z.output<typeof schema> | undefined;
  let app: GitHubAppCredentials | undefined;
  try {
    parsed = parseEnv(schema, env);
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    problems.push(...error.problems);
  }
  try {
    app = loadGitHubAppCredentials(env);
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    problems.push(...error.problems);
  }
  let redis: RedisTarget | undefined;
  if (parsed) {
    try {
      redis = redisTargetOf(parsed);
    } catch (error) {
      if (!(error instanceof ConfigError)) throw error;
      problems.push(...error.problems);
    }
  }
  if (!parsed || !app || !redis) throw new ConfigError(problems);
  const pipEnv: Record<string, string> = {};
  for (const key of PIP_PASSTHROUGH) {
    const value = env[key];
    if (value) pipEnv[key] = value;
  }
  return {
    redisUrl: redis.url,
    ...(redis.tlsCa ? { redisTlsCa: redis.tlsCa } : {}),
    prefix: parsed.BULLMQ_PREFIX,
    logLevel: parsed.LOG_LEVEL,
    apiUrl: parsed.GITHUB_API_URL,
    githubUrl: parsed.GITHUB_URL,
    evaluateLabel: parsed.EVALUATE_LABEL,
    app,
    concurrency: parsed.WORKER_CONCURRENCY,
    routerConcurrency: parsed.ROUTER_CONCURRENCY,
    recoveryIntervalMs: parsed.DELIVERY_RECOVERY_INTERVAL_SECONDS * 1000,
    workDir: parsed.EVALBOT_WORK_DIR,
    jobLogs: {
      dir: parsed.EVALBOT_JOB_LOG_DIR || join(dirname(resolve(parsed.EVALBOT_WORK_DIR)), 'evalbot-job-logs'),
      maxFileBytes: parsed.EVALBOT_JOB_LOG_FILE_MAX_MB * 1024 * 1024,
      maxTotalBytes: parsed.EVALBOT_JOB_LOG_MAX_MB * 1024 * 1024,
    },
    cacheDir: parsed.EVALBOT_CACHE_DIR,
    maxTimeoutMs: parsed.EVALBOT_MAX_TIMEOUT_MINUTES * 60_000,
    baseCacheTtlSeconds: parsed.BASE_CACHE_TTL_HOURS * 3600,
    metricsPort: parsed.WORKER_METRICS_PORT,
    metricsHost: parsed.WORKER_METRICS_HOST,
    lockDurationMs: parsed.WORKER_LOCK_DURATION_MS,
    sandbox: sandboxSettingsOf(parsed),
    python: parsed.EVALBOT_PYTHON,
    pipEnv,
  };
}
