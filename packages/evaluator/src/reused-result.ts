import type { SideSuccess } from '@evalbot/jobs';
import { repoConfigSchema } from '@evalbot/repo-config';
import { commitKey } from './content-key.ts';
import type { EvaluateResult, ResultStore } from './evaluate-options.ts';
import { resolvePython } from './python-interpreter.ts';
import type { WorkerEnv } from './sandbox-env.ts';

/** The stored result of the commit key, with its result key, when both are known. */
export async function resultOfCommit(
  store: ResultStore,
  commitKey: string,
): Promise<{ key: string; result: SideSuccess } | undefined> {
  const key = await store.keyOfCommit(commitKey);
  const result = key ? await store.get(key) : undefined;
  return key && result ? { key, result } : undefined;
}

/**
 * A stored result given to `sha`, which has the same content: marked reused, naming the commit
 * that was evaluated, its config typed again (stored as plain JSON).
 */
export function reusedResult(cached: SideSuccess, sha: string, key: string): EvaluateResult {
  const { config: storedConfig, ...rest } = cached;
  const config = repoConfigSchema.safeParse(storedConfig);
  return {
    ...rest,
    sha,
    resultReused: true,
    resultReusedFrom: cached.sha,
    resultKey: key,
    ...(config.success ? { config: config.data } : {}),
  };
}

/**
 * Whether `evaluateCommit` would answer `sha` from `store` without a clone: the same commit key
 * it computes (so a worker can skip work it would do only to train, e.g. routing to a pool).
 */
export async function isResultKnown(opts: {
  store: ResultStore;
  scope: string;
  side: 'head' | 'base';
  sha: string;
  settingsFrom?: string | undefined;
  python?: string | undefined;
  workerEnv?: WorkerEnv;
}): Promise<boolean> {
  const workerEnv = opts.workerEnv ?? process.env;
  const python = await resolvePython(opts.python ?? workerEnv.EVALBOT_PYTHON ?? 'python3', workerEnv);
  const key = commitKey({
    scope: opts.scope,
    side: opts.side,
    sha: opts.sha,
    settingsFrom: opts.settingsFrom,
    python,
  });
  return (await resultOfCommit(opts.store, key)) !== undefined;
}
