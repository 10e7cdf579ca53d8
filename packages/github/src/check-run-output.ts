import { GITHUB_LIMITS, truncateForGitHub } from './truncate-for-github.ts';

/** A check run's title, summary and details (Markdown). */
export interface CheckRunOutput {
  title: string;
  summary: string;
  text?: string;
}

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
