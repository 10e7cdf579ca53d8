import { delimiter } from 'node:path';

export type WorkerEnv = Record<string, string | undefined>;

/** pip settings passed through so the worker's mirrors and certificates work for PR installs. */
export const PIP_PASSTHROUGH = [
  'PIP_INDEX_URL',
  'PIP_EXTRA_INDEX_URL',
  'PIP_FIND_LINKS',
  'PIP_TRUSTED_HOST',
  'PIP_CERT',
  'PIP_DEFAULT_TIMEOUT',
  'PIP_DISABLE_PIP_VERSION_CHECK',
  'PIP_PREFER_BINARY',
  'PIP_ONLY_BINARY',
];
const PASSTHROUGH = [
  ...PIP_PASSTHROUGH,
  'LANG',
  'LC_ALL',
  'TZ',
  'CUDA_VISIBLE_DEVICES',
  'OMP_NUM_THREADS',
  'MKL_NUM_THREADS',
];
const PASSTHROUGH_PREFIXES = ['NVIDIA_', 'OPENBLAS_'];

/** Variables the evaluator sets itself; `.evalbot.yml` `env` cannot override them. */
const RESERVED = new Set([
  'PATH',
  'HOME',
  'TMPDIR',
  'VIRTUAL_ENV',
  'PIP_CACHE_DIR',
  'EVALBOT_SEED',
  'EVALBOT_SIDE',
]);

/**
 * The whole environment of PR code: an allowlist of the worker's variables (never its App
 * key, webhook secret, tokens, Redis URL or git credential), the repository's own `env`, and
 * the evaluator's variables. Nothing else from the worker leaks through.
 */
export function buildSandboxEnv(opts: {
  workerEnv: WorkerEnv;
  /** Prepended to the worker's PATH (the job's virtual environment first). */
  pathPrefix: string[];
  home: string;
  tmpDir: string;
  virtualEnv?: string;
  pipCacheDir: string;
  repoEnv: Record<string, string>;
  extra?: Record<string, string>;
}): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [key, value] of Object.entries(opts.workerEnv)) {
    if (value === undefined) continue;
    if (PASSTHROUGH.includes(key) || PASSTHROUGH_PREFIXES.some((p) => key.startsWith(p))) env[key] = value;
  }
  env.LANG ??= 'C.UTF-8';
  for (const [key, value] of Object.entries(opts.repoEnv)) {
    if (!RESERVED.has(key)) env[key] = value;
  }
  const basePath = opts.workerEnv.PATH ?? '/usr/local/bin:/usr/bin:/bin';
  Object.assign(env, {
    PATH: [...opts.pathPrefix, basePath].join(delimiter),
    HOME: opts.home,
    TMPDIR: opts.tmpDir,
    PIP_CACHE_DIR: opts.pipCacheDir,
    // Output reaches the live log as it is printed, not when Python's buffer fills.
    PYTHONUNBUFFERED: env.PYTHONUNBUFFERED ?? '1',
    PIP_NO_INPUT: '1',
    ...(opts.virtualEnv ? { VIRTUAL_ENV: opts.virtualEnv } : {}),
    ...opts.extra,
  });
  return env;
}
