import { parse as parseYaml } from 'yaml';
import type { z } from 'zod';
import { RepoConfigError } from './repo-config-error.ts';
import { type RepoConfig, repoConfigSchema } from './schema.ts';

export const REPO_CONFIG_FILE = '.evalbot.yml';
/** Bigger files are refused before parsing: a config is a few hundred bytes. */
export const MAX_REPO_CONFIG_BYTES = 64 * 1024;

const KNOWN_KEYS = Object.keys(repoConfigSchema.shape);

function fixFor(issue: z.core.$ZodIssue): string {
  if (issue.code === 'unrecognized_keys') return `remove it; known keys are ${KNOWN_KEYS.join(', ')}`;
  if (issue.code === 'invalid_type') return `give it a ${issue.expected}`;
  if (issue.code === 'too_small' || issue.code === 'too_big') return 'use a value in the allowed range';
  return 'see the .evalbot.yml reference in the README';
}

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
    raw = parseYaml(text, { maxAliasCount: 50, prettyErrors: true }) ?? {};
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
  const result = repoConfigSchema.safeParse(raw);
  if (result.success) return result.data;
  throw new RepoConfigError(
    file,
    result.error.issues.map((issue) => {
      const path = issue.path.map(String).join('.');
      const keys =
        issue.code === 'unrecognized_keys' ? issue.keys.map((k) => (path ? `${path}.${k}` : k)) : [];
      return {
        key: keys.length > 0 ? keys.join(', ') : path || '(file)',
        problem: issue.code === 'unrecognized_keys' ? 'is not a known key' : issue.message,
        fix: fixFor(issue),
      };
    }),
  );
}
