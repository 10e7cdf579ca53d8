import type { GitHubClient } from '@evalbot/github';
import { parseRepoConfig, REPO_CONFIG_FILE, RepoConfigError, type Resources } from '@evalbot/repo-config';

/**
 * The `resources` of the `.evalbot.yml` at commit `sha` (the PR's base), read through GitHub's
 * contents API — one small request, no clone. No file, or one that is not valid: the default
 * pool (the evaluation itself then reports the invalid file, as it does for any other key).
 * GitHub errors are thrown, so the job is retried.
 */
export async function readBaseResources(
  octokit: GitHubClient,
  opts: { owner: string; repo: string; sha: string },
): Promise<Resources> {
  const fallback = parseRepoConfig(undefined).resources;
  let text: string;
  try {
    const { data } = await octokit.rest.repos.getContent({
      owner: opts.owner,
      repo: opts.repo,
      path: REPO_CONFIG_FILE,
      ref: opts.sha,
    });
    if (Array.isArray(data) || data.type !== 'file' || !('content' in data)) return fallback;
    text = Buffer.from(data.content, 'base64').toString('utf8');
  } catch (error) {
    if ((error as { status?: number }).status === 404) return fallback;
    throw error;
  }
  try {
    return parseRepoConfig(text).resources;
  } catch (error) {
    if (error instanceof RepoConfigError) return fallback;
    throw error;
  }
}

/**
 * The `resources` of recently read base commits, by `installation/owner/repo@sha`: a commit's
 * file never changes, and both sides of an evaluation (and every PR on that base) route by it,
 * so one request serves them all. Reads of one key share one request; a failed read is not
 * kept (the next job asks GitHub again). Holds at most `max` commits, dropping the oldest.
 */
export class BaseResourcesMemo {
  private readonly reads = new Map<string, Promise<Resources>>();

  constructor(private readonly max = 1_000) {}

  read(key: string, load: () => Promise<Resources>): Promise<Resources> {
    const known = this.reads.get(key);
    if (known) return known;
    const reading = load();
    this.reads.set(key, reading);
    reading.catch(() => {
      if (this.reads.get(key) === reading) this.reads.delete(key);
    });
    if (this.reads.size > this.max) {
      const oldest = this.reads.keys().next().value;
      if (oldest !== undefined) this.reads.delete(oldest);
    }
    return reading;
  }
}
