import { expect } from 'vitest';
import { parseRepoConfig, RepoConfigError } from '../src/index.ts';

/** The problems `.evalbot.yml` text is refused with; fails the test when it is accepted. */
export function problemsOf(text: string) {
  try {
    parseRepoConfig(text);
  } catch (error) {
    expect(error).toBeInstanceOf(RepoConfigError);
    return (error as RepoConfigError).problems;
  }
  throw new Error('expected the config to be refused');
}
