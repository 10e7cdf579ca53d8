import { parse as parseYaml } from 'yaml';
import { describeIssue } from './describe-issue.ts';
import { RepoConfigError } from './repo-config-error.ts';
import { type RepoConfig, repoConfigSchema } from './schema.ts';

export const REPO_CONFIG_FILE = '.evalbot.yml';
/** Bigger files are refused before parsing: a config is a few hundred bytes. */
export const MAX_REPO_CONFIG_BYTES = 64 * 1024;

/**
 * Parse the text of `.evalbot.yml` (or `undefined` when the file does not exist: the
 * tutorial's defaults). Throws {@link RepoConfigError}; never evaluates code.
 */
export function parseRepoConfig(text: string | undefined, file = REPO_CONFIG_FILE): RepoConfig {
  if (text === undefined) return repoConfigSchema.parse({});
  if (Buffer.byteLength(text) > MAX_REPO_CONFIG_BYTES) {
    throw new RepoConfigError(file, [
      {
        key: '(file)',
        problem: `is ${Buffer.byteLength(text)} bytes, over the ${MAX_REPO_CONFIG_BYTES}-byte limit`,
        fix: 'keep only evalbot settings in it',
      },
    ]);
  }
  let raw: unknown;
  try {
    // logLevel 'error': errors still throw, but warnings (an unknown `!!tag`, one per use) are not
    // written to the worker's stderr, where the PR's file would fill its log past the logger.
    raw = parseYaml(text, { maxAliasCount: 50, prettyErrors: true, logLevel: 'error' }) ?? {};
  } catch (error) {
    throw new RepoConfigError(file, [
      {
        key: '(file)',
        problem: `is not valid YAML: ${(error as Error).message.split('\n')[0]}`,
        fix: 'fix the YAML syntax',
      },
    ]);
  }
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    throw new RepoConfigError(file, [
      {
        key: '(file)',
        problem: 'must be a mapping of keys to values',
        fix: 'start with e.g. `run: python3 demo.py`',
      },
    ]);
  }
  // Zod drops a record key `__proto__` without a word (a plain object cannot hold it), and the
  // evaluator skips a metric of that name: its settings are refused here, naming it.
  const metrics = (raw as { metrics?: unknown }).metrics;
  if (metrics !== null && typeof metrics === 'object' && Object.hasOwn(metrics, '__proto__')) {
    throw new RepoConfigError(file, [
      {
        key: 'metrics.__proto__',
        problem: 'cannot be a metric name evalbot keeps',
        fix: 'rename the metric (in the metrics file and here)',
      },
    ]);
  }
  // reportInput: the problems quote what the file says, e.g. `is the text "soon", not a number`.
  const result = repoConfigSchema.safeParse(raw, { reportInput: true });
  if (result.success) return result.data;
  throw new RepoConfigError(file, result.error.issues.flatMap(describeIssue));
}
