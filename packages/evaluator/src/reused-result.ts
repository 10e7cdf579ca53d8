import type { SideSuccess } from '@evalbot/jobs';
import { repoConfigSchema } from '@evalbot/repo-config';
import type { EvaluateResult, ResultStore } from './evaluate-options.ts';

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
