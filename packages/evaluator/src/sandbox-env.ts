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
  'PIP_NO_CACHE_DIR',
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
  /** pip's cache; undefined: pip caches nothing (`PIP_NO_CACHE_DIR`). */
  pipCacheDir: string | undefined;
  repoEnv: Record<string, string>;
  extra?: Record<string, string>;
  /** In the sandbox there is no network: pip gets no index, no configuration file and no mirrors. */
  offline?: boolean;
}): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [key, value] of Object.entries(opts.workerEnv)) {
    if (value === undefined) continue;
    if (opts.offline && PIP_PASSTHROUGH.includes(key)) continue;
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
    ...(opts.pipCacheDir ? { PIP_CACHE_DIR: opts.pipCacheDir } : { PIP_NO_CACHE_DIR: '1' }),
    // Output reaches the live log as it is printed, not when Python's buffer fills.
    PYTHONUNBUFFERED: env.PYTHONUNBUFFERED ?? '1',
    PIP_NO_INPUT: '1',
    ...(opts.virtualEnv ? { VIRTUAL_ENV: opts.virtualEnv } : {}),
    // Offline: no index, no configuration. (Not the job's downloaded wheels either: they exist
    // only when this job built its environment, and a setup step must not work only then.)
    ...(opts.offline ? { PIP_NO_INDEX: '1', PIP_CONFIG_FILE: '/dev/null' } : {}),
    ...opts.extra,
  });
  return env;
}

/** What the worker's own pip needs to download as the operator's `pip` would, and nothing else. */
const DOWNLOAD_PASSTHROUGH = [
  'PATH',
  'HOME',
  'LANG',
  'LC_ALL',
  'XDG_CONFIG_HOME',
  'XDG_CACHE_HOME',
  'VIRTUAL_ENV',
  'SSL_CERT_FILE',
  'SSL_CERT_DIR',
  'REQUESTS_CA_BUNDLE',
  'http_proxy',
  'https_proxy',
  'no_proxy',
  'HTTP_PROXY',
  'HTTPS_PROXY',
  'NO_PROXY',
];

/**
 * The environment of the worker's wheel download: its HOME (so a user-level `pip.conf`
 * applies), every `PIP_*` variable, proxies and CA files, and pip's download cache, which
 * no sandbox can see. No App key, token or Redis URL.
 */
export function downloadEnvOf(env: WorkerEnv, pipCacheDir: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [key, value] of Object.entries(env)) {
    if (value === undefined) continue;
    if (DOWNLOAD_PASSTHROUGH.includes(key) || key.startsWith('PIP_')) out[key] = value;
  }
  delete out.VIRTUAL_ENV;
  Object.assign(out, { PIP_CACHE_DIR: pipCacheDir, PIP_NO_INPUT: '1', PIP_DISABLE_PIP_VERSION_CHECK: '1' });
  return out;
}

/** The environments of one job's commands; see {@link jobSandboxEnvs}. */
export interface JobSandboxEnvs {
  /** PR code: setup, run and pip in the job's own layer (`seed` sets `EVALBOT_SEED`). */
  forJob(virtualEnv: string, binDirs: string[], seed?: number): Record<string, string>;
  /** evalbot's own steps (creating venvs) and the build of a shared environment. */
  forSharedBuild(virtualEnv: string, binDirs: string[]): Record<string, string>;
}

/**
 * The two environments of a job. PR code gets the repository's `env` and a pip cache inside
 * the job directory. A shared environment is reused by every repository with the same
 * requirements, so its build gets the worker's settings only (its PIP_* mirrors) and never
 * the repository's `env`: a PR that could point pip at its own index, find-links or
 * constraints would plant packages in other repositories' environments. evalbot's own steps
 * run as the worker and get no repository input either.
 */
export function jobSandboxEnvs(opts: {
  workerEnv: WorkerEnv;
  home: string;
  tmpDir: string;
  repoEnv: Record<string, string>;
  side: 'head' | 'base';
  seed: number;
  /** pip's cache for PR code; removed with the job. */
  jobPipCacheDir: string;
  /** pip's cache for shared builds; undefined: none. PR code must not be able to write it. */
  sharedPipCacheDir: string | undefined;
  /** Sandboxed: pip is offline (see `buildSandboxEnv`). */
  offline?: boolean;
}): JobSandboxEnvs {
  const common = {
    workerEnv: opts.workerEnv,
    home: opts.home,
    tmpDir: opts.tmpDir,
    offline: opts.offline,
  };
  return {
    forJob: (virtualEnv, binDirs, seed = opts.seed) =>
      buildSandboxEnv({
        ...common,
        pathPrefix: binDirs,
        virtualEnv,
        pipCacheDir: opts.jobPipCacheDir,
        repoEnv: opts.repoEnv,
        extra: { EVALBOT_SEED: String(seed), EVALBOT_SIDE: opts.side },
      }),
    forSharedBuild: (virtualEnv, binDirs) =>
      buildSandboxEnv({
        ...common,
        pathPrefix: binDirs,
        virtualEnv,
        pipCacheDir: opts.sharedPipCacheDir,
        repoEnv: {},
      }),
  };
}
