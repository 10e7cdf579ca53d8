import type { SideOutcome } from '@evalbot/jobs';
import { parseRepoConfig, REPO_CONFIG_FILE, type RepoConfig, repoConfigSchema } from '@evalbot/repo-config';
import type { ConfigErrorLike } from './render-failure.ts';

/**
 * The config `buildReport` judges by: the base side's `.evalbot.yml` (as its outcome carries
 * it), else the defaults when the base's could not be read. Never the head's, so a PR cannot
 * loosen its own gate. Used by the worker and the CLI alike, so both print the same verdict.
 */
export function baseConfigOf(base: SideOutcome): RepoConfig {
  const parsed = base.config ? repoConfigSchema.safeParse(base.config) : undefined;
  return parsed?.success ? parsed.data : parseRepoConfig(undefined);
}

/** `buildReport`'s `configErrors`: the `.evalbot.yml` problems of each side that failed reading it. */
export function configErrorsOf(
  head: SideOutcome,
  base: SideOutcome,
): { head?: ConfigErrorLike; base?: ConfigErrorLike } {
  const of = (side: SideOutcome) =>
    !side.ok && side.configProblems ? { file: REPO_CONFIG_FILE, problems: side.configProblems } : undefined;
  const headError = of(head);
  const baseError = of(base);
  return { ...(headError ? { head: headError } : {}), ...(baseError ? { base: baseError } : {}) };
}
