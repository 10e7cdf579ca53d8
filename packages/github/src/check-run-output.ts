import { type CheckRunOutput, GITHUB_LIMITS } from './github-facts.ts';
import { truncateForGitHub } from './truncate-for-github.ts';

/** The output, cut to GitHub's limits so it is posted rather than refused. */
export function fitCheckRunOutput(output: CheckRunOutput): CheckRunOutput {
  return {
    title: output.title,
    summary: truncateForGitHub(output.summary, GITHUB_LIMITS.checkRunOutput),
    ...(output.text === undefined
      ? {}
      : { text: truncateForGitHub(output.text, GITHUB_LIMITS.checkRunOutput) }),
  };
}
