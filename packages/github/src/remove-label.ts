import type { Octokit } from '@octokit/rest';

/**
 * Remove a label from a PR. A label that is already gone (404) is not an error.
 * Returns whether this call removed it.
 */
export async function removeLabel(
  octokit: Octokit,
  opts: { owner: string; repo: string; issueNumber: number; name: string },
): Promise<{ removed: boolean }> {
  try {
    await octokit.rest.issues.removeLabel({
      owner: opts.owner,
      repo: opts.repo,
      issue_number: opts.issueNumber,
      name: opts.name,
    });
    return { removed: true };
  } catch (error) {
    if ((error as { status?: number }).status === 404) return { removed: false };
    throw error;
  }
}
