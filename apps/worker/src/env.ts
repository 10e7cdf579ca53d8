import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
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
  redisEnv,
} from '@evalbot/config';
import type { SandboxLimits } from '@evalbot/evaluator';
import { z } from 'zod';

const MiB = 1024 * 1024;

const schema = z.object({
  ...redisEnv,
  ...logEnv,
  ...githubEndpointEnv,
  ...prefixEnv,
  ...evaluateLabelEnv,
  WORKER_CONCURRENCY: envInt({ default: 1, min: 1, max: 64 }),
  EVALBOT_WORK_DIR: z.string().default(join(tmpdir(), 'evalbot-work')),
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
  EVALBOT_SANDBOX_UIDS: z
    .string()
    .default('50000-50999')
    .refine((v) => /^\s*\d+\s*-\s*\d+\s*$/.test(v), 'must be a range of uids, e.g. 50000-50999')
    .transform((v) => {
      const [first, last] = v.split('-').map((n) => Number(n.trim()));
      return { first: first ?? 0, last: last ?? 0 };
    })
    .refine(
      (r) => r.first > 0 && r.last >= r.first,
      'must be a range of non-root uids, first ≤ last, e.g. 50000-50999 (no account may use them)',
    ),
  EVALBOT_SANDBOX_MEMORY_MB: envInt({ default: 8192, min: 64, max: 4 * 1024 * 1024 }),
  EVALBOT_SANDBOX_MAX_PROCESSES: envInt({ default: 512, min: 16, max: 1_000_000 }),
  EVALBOT_SANDBOX_MAX_FILE_MB: envInt({ default: 4096, min: 1, max: 16 * 1024 * 1024 }),
  EVALBOT_SANDBOX_DISK_MB: envInt({ default: 10240, min: 16, max: 64 * 1024 * 1024 }),
  EVALBOT_SANDBOX_TMP_MB: envInt({ default: 1024, min: 1, max: 1024 * 1024 }),
  /** Runs PR code uncontained, as the worker: only for local experiments with one's own code. */
  EVALBOT_UNSAFE_NO_SANDBOX: z
    .enum(['', '0', '1', 'true', 'false'], { message: 'must be 1 (run PR code without a sandbox) or unset' })
    .default('')
    .transform((v) => v === '1' || v === 'true'),
  EVALBOT_PYTHON: z.string().min(1).default('python3'),
});

export interface WorkerConfig {
  redisUrl: string;
  prefix: string;
  logLevel: string;
  apiUrl: string;
  githubUrl: string;
  evaluateLabel: string;
  app: GitHubAppCredentials;
  concurrency: number;
  workDir: string;
  cacheDir: string;
  maxTimeoutMs: number;
  baseCacheTtlSeconds: number;
  metricsPort: number;
  metricsHost: string;
  lockDurationMs: number;
  /** The sandbox's uids and limits; undefined: EVALBOT_UNSAFE_NO_SANDBOX, PR code runs uncontained. */
  sandbox: { uids: { first: number; last: number }; limits: SandboxLimits } | undefined;
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
  if (!parsed || !app) throw new ConfigError(problems);
  const pipEnv: Record<string, string> = {};
  for (const key of PIP_PASSTHROUGH) {
    const value = env[key];
    if (value) pipEnv[key] = value;
  }
  return {
    redisUrl: parsed.REDIS_URL,
    prefix: parsed.BULLMQ_PREFIX,
    logLevel: parsed.LOG_LEVEL,
    apiUrl: parsed.GITHUB_API_URL,
    githubUrl: parsed.GITHUB_URL,
    evaluateLabel: parsed.EVALUATE_LABEL,
    app,
    concurrency: parsed.WORKER_CONCURRENCY,
    workDir: parsed.EVALBOT_WORK_DIR,
    cacheDir: parsed.EVALBOT_CACHE_DIR,
    maxTimeoutMs: parsed.EVALBOT_MAX_TIMEOUT_MINUTES * 60_000,
    baseCacheTtlSeconds: parsed.BASE_CACHE_TTL_HOURS * 3600,
    metricsPort: parsed.WORKER_METRICS_PORT,
    metricsHost: parsed.WORKER_METRICS_HOST,
    lockDurationMs: parsed.WORKER_LOCK_DURATION_MS,
    sandbox: parsed.EVALBOT_UNSAFE_NO_SANDBOX
      ? undefined
      : {
          uids: parsed.EVALBOT_SANDBOX_UIDS,
          limits: {
            memoryBytes: parsed.EVALBOT_SANDBOX_MEMORY_MB * MiB,
            processes: parsed.EVALBOT_SANDBOX_MAX_PROCESSES,
            fileSizeBytes: parsed.EVALBOT_SANDBOX_MAX_FILE_MB * MiB,
            diskBytes: parsed.EVALBOT_SANDBOX_DISK_MB * MiB,
            tmpBytes: parsed.EVALBOT_SANDBOX_TMP_MB * MiB,
          },
        },
    python: parsed.EVALBOT_PYTHON,
    pipEnv,
  };
}
