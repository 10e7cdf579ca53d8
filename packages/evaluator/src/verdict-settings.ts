import { parseRepoConfig, REPO_CONFIG_FILE, type RepoConfig, RepoConfigError } from '@evalbot/repo-config';
import type { EvaluateCommitOptions } from './evaluate-options.ts';
import type { OtherCommitFile } from './fetch-commit.ts';
import type { LogCollector } from './log-collector.ts';

/**
 * `repeats`, `seed`, `ignore` and `resources` from the commit named by `verdictSettingsFrom`
 * (its `.evalbot.yml` as fetched), the defaults when it has none or it cannot be read; the
 * commit's own without one. `resources` is where the side runs (the base's pool), so a result
 * keyed by it is not reused on other hardware. `sure` is false when the defaults stand in for a
 * config that could not be read.
 */
export function verdictSettingsOf(
  file: OtherCommitFile | undefined,
  from: EvaluateCommitOptions['verdictSettingsFrom'],
  own: RepoConfig,
  log: LogCollector,
): Pick<RepoConfig, 'repeats' | 'seed' | 'ignore' | 'resources'> & { sure: boolean } {
  if (!from) {
    return { repeats: own.repeats, seed: own.seed, ignore: own.ignore, resources: own.resources, sure: true };
  }
  const where = `${REPO_CONFIG_FILE} of the base commit ${from.sha.slice(0, 12)}`;
  let settings = parseRepoConfig(undefined);
  let sure = true;
  if (file?.kind === 'file') {
    try {
      settings = parseRepoConfig(file.text);
    } catch (error) {
      if (!(error instanceof RepoConfigError)) throw error;
      log.line(`evalbot: the ${where} is invalid; running with the default repeats and seed`);
    }
  } else if (file?.kind === 'unreadable') {
    sure = false;
    log.line(`evalbot: could not read the ${where} (${file.why}); running with the default repeats and seed`);
  }
  const { repeats, seed, ignore, resources } = settings;
  if (repeats !== own.repeats || seed !== own.seed) {
    log.line(
      `evalbot: repeats ${repeats} and seed ${seed} come from the base branch (this commit asks for repeats ${own.repeats}, seed ${own.seed}): both sides run alike`,
    );
  }
  return { repeats, seed, ignore, resources, sure };
}
