import { readdirSync } from 'node:fs';
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
  workDirsEnv,
} from '@evalbot/config';
import { DEFAULT_POOL, GPU_POOL, POOL_NAME } from '@evalbot/repo-config';
import { z } from 'zod';

/** `WORKER_POOLS`: the pools whose evaluate queues this worker takes. */
const poolsEnv = z
  .string()
  .default(DEFAULT_POOL)
  .transform((raw, ctx) => {
    const pools = [
      ...new Set(
        raw
          .split(',')
          .map((p) => p.trim())
          .filter(Boolean),
      ),
    ];
    const bad = pools.filter((p) => !POOL_NAME.test(p));
    if (pools.length === 0 || bad.length > 0) {
      ctx.addIssue({
        code: 'custom',
        message: `"${raw}" is not a comma-separated list of pool names (lower-case letters, digits and "-"); use e.g. ${DEFAULT_POOL},${GPU_POOL}`,
      });
      return z.NEVER;
    }
    return pools;
  });

/** `EVALBOT_GPU_DEVICES`: CUDA device indexes or UUIDs, as CUDA_VISIBLE_DEVICES takes them. */
const gpuDevicesEnv = z
  .string()
  .optional()
  .transform((raw, ctx) => {
    if (raw === undefined || raw.trim() === '') return undefined;
    if (raw.trim() === 'none') return [];
    const devices = raw.split(',').map((d) => d.trim());
    if (
      devices.some((d) => !/^(\d+|(GPU|MIG)-[A-Za-z0-9/-]+)$/.test(d)) ||
      new Set(devices).size !== devices.length
    ) {
      ctx.addIssue({
        code: 'custom',
        message: `"${raw}" is not a list of distinct GPU indexes or UUIDs; use e.g. 0,1 (or none)`,
      });
      return z.NEVER;
    }
    return devices;
  });

/** `EVALBOT_POOL_WAIT_MINUTES`: a positive number of minutes; fractions allowed. */
const minutesEnv = (defaultMinutes: number) =>
  z
    .string()
    .optional()
    .transform((raw, ctx) => {
      if (raw === undefined) return defaultMinutes;
      const value = Number(raw.trim());
      if (raw.trim() === '' || !Number.isFinite(value) || value <= 0 || value > 7 * 24 * 60) {
        ctx.addIssue({
          code: 'custom',
          message: `"${raw}" is not a number of minutes between 0 and 10080, e.g. 30 or 0.5`,
        });
        return z.NEVER;
      }
      return value;
    });

/**
 * The host's NVIDIA GPUs as the driver's device nodes show them (`/dev/nvidia0`, `/dev/nvidia1`…),
 * by index: what CUDA_VISIBLE_DEVICES numbers, unless a container runtime renumbered them
 * (then set EVALBOT_GPU_DEVICES).
 */
export function detectGpuDevices(devDir = '/dev'): string[] {
  let names: string[];
  try {
    names = readdirSync(devDir);
  } catch {
    return [];
  }
  return names
    .map((name) => /^nvidia(\d+)$/.exec(name)?.[1])
    .filter((index): index is string => index !== undefined)
    .sort((a, b) => Number(a) - Number(b));
}

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
  ...workDirsEnv,
  /** Whole job logs on disk; default `evalbot-job-logs` beside EVALBOT_WORK_DIR (not in it: it holds job directories only). */
  EVALBOT_JOB_LOG_DIR: z.string().optional(),
  EVALBOT_JOB_LOG_MAX_MB: envInt({ default: 1024, min: 1, max: 1024 * 1024 }),
  EVALBOT_JOB_LOG_FILE_MAX_MB: envInt({ default: 64, min: 1, max: 1024 * 1024 }),
  EVALBOT_MAX_TIMEOUT_MINUTES: envInt({ default: 60, min: 1, max: 24 * 60 }),
  BASE_CACHE_TTL_HOURS: envInt({ default: 168, min: 0, max: 24 * 365 }),
  /** Groups of repositories allowed to reuse each other's results: `a/x,b/x;c/y,c/y-mirror`. */
  EVALBOT_SHARE_RESULTS: z
    .string()
    .default('')
    .transform((raw, ctx) => {
      const groups: string[][] = [];
      for (const group of raw.split(';')) {
        const repos = group
          .split(',')
          .map((r) => r.trim().toLowerCase())
          .filter(Boolean);
        if (repos.length === 0) continue;
        const bad = repos.find((r) => !/^[a-z0-9_.-]+\/[a-z0-9_.-]+$/.test(r));
        if (bad || repos.length < 2) {
          ctx.addIssue({
            code: 'custom',
            message: bad
              ? `"${bad}" is not owner/name; list groups of repositories as owner/a,owner/b;org/c,org/d`
              : `the group "${group.trim()}" has one repository; a group shares results between two or more (owner/a,owner/b)`,
          });
          return z.NEVER;
        }
        groups.push(repos);
      }
      return groups;
    }),
  /** Bound of the cached environments on this host, in GB (decimals allowed); 0: unbounded. */
  EVALBOT_CACHE_MAX_GB: z
    .string()
    .default('50')
    .transform((raw, ctx) => {
      const value = Number(raw.trim());
      if (raw.trim() === '' || !Number.isFinite(value) || value < 0) {
        ctx.addIssue({
          code: 'custom',
          message: `"${raw}" is not a size in GB (e.g. 50 or 0.5; 0 for no bound)`,
        });
        return z.NEVER;
      }
      return value;
    }),
  WORKER_METRICS_PORT: envInt({ default: 9464, min: 0, max: 65535 }),
  // Loopback unless asked: /metrics is for the operator's Prometheus, not the internet.
  WORKER_METRICS_HOST: z.string().default('127.0.0.1'),
  /** How long a job's lock lives without renewal: after a worker dies, its job is retried this much later. */
  WORKER_LOCK_DURATION_MS: envInt({ default: 30_000, min: 1000, max: 600_000 }),
  /** How often a worker looks for jobs whose lock lapsed (their worker or its host is gone); default the lock duration, at most 30 s. */
  WORKER_STALLED_INTERVAL_MS: envInt({ default: 30_000, min: 500, max: 600_000 }),
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
  WORKER_POOLS: poolsEnv,
  EVALBOT_GPU_DEVICES: gpuDevicesEnv,
  EVALBOT_POOL_WAIT_MINUTES: minutesEnv(30),
});

export interface WorkerConfig {
  /** Where Redis is and how to trust it (`REDIS_URL`, `REDIS_TLS_CA_FILE`, `REDIS_SENTINELS`…). */
  redis: RedisTarget;
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
  /** How long a successful result stays reusable (BASE_CACHE_TTL_HOURS); 0: results are not reused. */
  baseCacheTtlSeconds: number;
  /** Repositories (lowercase owner/name) that may reuse each other's results, by group. */
  shareResults: string[][];
  /** Bound of the cached environments, in bytes; 0: unbounded. */
  cacheMaxBytes: number;
  metricsPort: number;
  metricsHost: string;
  lockDurationMs: number;
  /** BullMQ's stalled-job check: a lost worker's job runs elsewhere about `lockDurationMs` + this later. */
  stalledIntervalMs: number;
  /** The sandbox's uids and limits; undefined: EVALBOT_UNSAFE_NO_SANDBOX, PR code runs uncontained. */
  sandbox: SandboxSettingsFromEnv | undefined;
  /** The interpreter environments are built with. */
  python: string;
  /** Environment variables passed through to pip (mirrors). */
  pipEnv: Record<string, string>;
  /** The pools whose evaluate queues this worker takes (`WORKER_POOLS`); `default` also takes compare and command jobs. */
  pools: string[];
  /** The GPUs this worker hands out, one per training of a pool job that asks for a GPU. */
  gpuDevices: string[];
  /** How long a side waits for a worker of its pool before the PR is told none serves it. */
  poolWaitMs: number;
}

const PIP_PASSTHROUGH = ['PIP_INDEX_URL', 'PIP_EXTRA_INDEX_URL', 'PIP_FIND_LINKS', 'PIP_TRUSTED_HOST'];

/** Parse the worker's configuration once, at start-up. Throws a ConfigError naming every bad variable. */
export function loadConfig(env: Env = process.env, host: { devDir?: string } = {}): WorkerConfig {
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
  const gpuDevices = parsed ? (parsed.EVALBOT_GPU_DEVICES ?? detectGpuDevices(host.devDir)) : [];
  if (parsed?.WORKER_POOLS.includes(GPU_POOL) && gpuDevices.length === 0) {
    problems.push({
      variable: 'WORKER_POOLS',
      problem: `includes ${GPU_POOL}, but this host has no GPU to give its trainings: no /dev/nvidia0, /dev/nvidia1… and EVALBOT_GPU_DEVICES is not set. Set EVALBOT_GPU_DEVICES to the GPUs to use (e.g. 0,1), or remove ${GPU_POOL} from WORKER_POOLS`,
    });
  }
  if (!parsed || !app || !redis || problems.length > 0) throw new ConfigError(problems);
  const pipEnv: Record<string, string> = {};
  for (const key of PIP_PASSTHROUGH) {
    const value = env[key];
    if (value) pipEnv[key] = value;
  }
  return {
    redis,
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
    shareResults: parsed.EVALBOT_SHARE_RESULTS,
    cacheMaxBytes: Math.round(parsed.EVALBOT_CACHE_MAX_GB * 1024 ** 3),
    metricsPort: parsed.WORKER_METRICS_PORT,
    metricsHost: parsed.WORKER_METRICS_HOST,
    lockDurationMs: parsed.WORKER_LOCK_DURATION_MS,
    stalledIntervalMs:
      env.WORKER_STALLED_INTERVAL_MS === undefined
        ? Math.min(30_000, parsed.WORKER_LOCK_DURATION_MS)
        : parsed.WORKER_STALLED_INTERVAL_MS,
    sandbox: sandboxSettingsOf(parsed),
    python: parsed.EVALBOT_PYTHON,
    pipEnv,
    pools: parsed.WORKER_POOLS,
    gpuDevices,
    poolWaitMs: Math.round(parsed.EVALBOT_POOL_WAIT_MINUTES * 60_000),
  };
}
