import { execFileSync } from 'node:child_process';

/** What every benchmark gets from `run.ts`. */
export interface BenchContext {
  /** BENCH_QUICK=1: fewer and shorter measurements, for a check that everything runs. */
  quick: boolean;
  /** A private temp directory, removed at the end. */
  tmpDir: string;
  /** The environment children inherit: the bench's own, with pip pointed at the wheel indexes. */
  env: Record<string, string | undefined>;
  /** pip's index settings alone, for the workers (`startLocalStack`'s `workerEnv`). */
  pipEnv: Record<string, string>;
  /** Progress on stderr. */
  log(message: string): void;
}

/**
 * pip's index settings as `scripts/lib/pip-env.sh` derives them: kept when set, else taken
 * from pip's own `extra-index-url` configuration, so pip never waits on an unreachable index.
 */
export function pipIndexEnv(env: Record<string, string | undefined>): Record<string, string> {
  if (env.PIP_INDEX_URL) return {};
  let listed = '';
  try {
    listed = execFileSync('pip3', ['config', 'list'], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore'],
    });
  } catch {
    return {};
  }
  const match = /^global\.extra-index-url='(.*)'$/m.exec(listed);
  const [index, ...extra] = (match?.[1] ?? '').split(/\s+/).filter(Boolean);
  if (!index) return {};
  return { PIP_INDEX_URL: index, ...(extra.length > 0 ? { PIP_EXTRA_INDEX_URL: extra.join(' ') } : {}) };
}
