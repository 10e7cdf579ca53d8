import type { SideOutcome, SideSuccess, Stage } from '@evalbot/jobs';
import type { RepoConfig, RepoConfigError } from '@evalbot/repo-config';
import type { CommitSource } from './fetch-commit.ts';
import type { LogLimits } from './log-collector.ts';
import type { Sandbox } from './sandbox/index.ts';
import type { WorkerEnv } from './sandbox-env.ts';

export interface Progress {
  stage: Stage;
  message: string;
  /** 0–100, for a progress bar (`job.updateProgress`). */
  percent: number;
}

/**
 * Where results are kept for reuse by content (`resultKey` in content-key.ts). Only
 * successful results are put; a failed or cancelled run is never stored.
 */
export interface ResultStore {
  /** The result key last computed for a commit key (`commitKey`), if known. */
  keyOfCommit(commitKey: string): Promise<string | undefined>;
  rememberCommit(commitKey: string, resultKey: string): Promise<void>;
  get(resultKey: string): Promise<SideSuccess | undefined>;
  put(resultKey: string, result: SideSuccess): Promise<void>;
}

export interface EvaluateCommitOptions {
  /**
   * Reuse results by content: a side whose result key (files after `ignore:`, requirements,
   * effective config, side, interpreter, evaluation version) was evaluated before in the same
   * `scope` is not run again. `scope` is the repository, or a group of repositories the
   * operator allows to share results.
   */
  results?: { store: ResultStore; scope: string };
  source: CommitSource;
  side: 'head' | 'base';
  /** Parent of the per-job temp directories; private to this host. */
  workRoot: string;
  /** Cached virtual environments (`venvs/`) and the worker's pip download cache, shared by the host's workers. */
  cacheDir: string;
  /** The worker's cap on `.evalbot.yml` `timeout_minutes` (which covers setup and run). */
  maxTimeoutMs: number;
  /** Clone URLs must be on this origin (`GITHUB_URL`); required for URL sources. */
  allowedOrigin?: string;
  /** Aborting kills whatever runs (its whole process group) and returns a `cancelled` failure. */
  signal?: AbortSignal;
  onProgress?: (progress: Progress) => void;
  /**
   * Called once when the commit will really be evaluated — fetched and configured, and no
   * result of the same content to reuse — right before its environment is prepared. Not called
   * for a reused result, nor when the commit fails before (fetch, `.evalbot.yml`).
   */
  onEvaluating?: () => void;
  /** Live output lines, redacted, rate-limited. */
  onLog?: (line: string) => void;
  /** Every output line, redacted, not rate-limited (the worker keeps them on its disk). */
  onOutput?: (line: string) => void;
  /**
   * The shared environment was reused (`hit`), derived from the closest cached one by
   * installing only the difference (`derived`), or built from nothing (`miss`): for metrics.
   */
  onEnvironmentCache?: (result: 'hit' | 'derived' | 'miss') => void;
  /**
   * Bound of the cached environments in `cacheDir`, in bytes (0 or absent: none): after a
   * build, the least recently used ones no job holds are removed until the rest fit.
   */
  cacheMaxBytes?: number;
  /** The environment cache's size after a build and its eviction: for metrics. */
  onCacheSize?: (size: { bytes: number; maxBytes: number; evicted: string[] }) => void;
  /** Values redacted from logs and messages (the git credential is added automatically). */
  secrets?: string[];
  /**
   * The commit whose `.evalbot.yml` decides `repeats` and `seed` (the PR's base, for the head),
   * fetched from the same source: both sides then run alike and a PR cannot lower its repeats
   * or pick a lucky seed. Without a readable config there (none, invalid, or the commit gone)
   * the defaults apply. Commands, files and env always come from the evaluated commit itself.
   */
  verdictSettingsFrom?: { sha: string; fetchRefs?: string[] };
  /**
   * Where commands from the repository run (`createSandbox`): by default a bubblewrap sandbox
   * made once per process (no network, a pid namespace, a uid of its own per job when the
   * worker is root, a read-only system, limits). `'unsafe-none'` runs them uncontained as the
   * worker, for local experiments with one's own code only.
   */
  sandbox?: Sandbox | 'unsafe-none';
  /**
   * The worker's environment for its wheel downloads (HOME and pip.conf, PIP_*, proxies).
   * Default `process.env`; only pip's settings are taken from it.
   */
  downloadEnv?: WorkerEnv;
  /** The Python interpreter command. Default `workerEnv.EVALBOT_PYTHON`, else `python3`. */
  python?: string;
  /** Where allowlisted variables (PATH, PIP_* mirrors, LANG, …) are read from. Default `process.env`. */
  workerEnv?: WorkerEnv;
  /** Limit for fetching the commit. Default 5 min. */
  cloneTimeoutMs?: number;
  /** Time between SIGTERM and SIGKILL when a command is stopped. Default 3 s. */
  killGraceMs?: number;
  logLimits?: LogLimits;
}

/**
 * A `SideOutcome` plus what the caller may need besides: the commit's parsed config (absent
 * when it could not be read) or the error that made it unreadable, and whether the failure
 * was a cancellation. Store it as `toSideOutcome(result)`, which drops the extras.
 */
export type EvaluateResult = SideOutcome & {
  config?: RepoConfig;
  /** The result key of what was evaluated, when `results` was given and the config read. */
  resultKey?: string;
  configError?: RepoConfigError;
  cancelled?: boolean;
};
