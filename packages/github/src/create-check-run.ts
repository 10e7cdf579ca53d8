import type { Octokit } from '@octokit/rest';
import { fitCheckRunOutput } from './check-run-output.ts';
import type { CheckRunConclusion, CheckRunOutput } from './github-facts.ts';

export interface CreateCheckRunOptions {
  owner: string;
  repo: string;
  headSha: string;
  name: string;
  /** Default `in_progress`. */
  status?: 'queued' | 'in_progress';
  /** When an `in_progress` run started. Default now. */
  startedAt?: Date;
  detailsUrl?: string;
  /** Your own id for the run, e.g. the evaluation key. */
  externalId?: string;
  output?: CheckRunOutput;
  /**
   * Create the run completed, with this conclusion (GitHub accepts `status: completed` on
   * creation): one write where opening and completing it would be two, each paced by Octokit.
   */
  completed?: { conclusion: CheckRunConclusion; completedAt?: Date };
}

export interface CheckRunRef {
  id: number;
  htmlUrl: string | null;
}

/** Start a check run on the PR's head commit (or create it completed: `completed`). */
export async function createCheckRun(octokit: Octokit, opts: CreateCheckRunOptions): Promise<CheckRunRef> {
  const status = opts.completed ? 'completed' : (opts.status ?? 'in_progress');
  const { data } = await octokit.rest.checks.create({
    owner: opts.owner,
    repo: opts.repo,
    head_sha: opts.headSha,
    name: opts.name,
    status,
    ...(status !== 'queued' ? { started_at: (opts.startedAt ?? new Date()).toISOString() } : {}),
    ...(opts.completed
      ? {
          conclusion: opts.completed.conclusion,
          completed_at: (opts.completed.completedAt ?? new Date()).toISOString(),
        }
      : {}),
    ...(opts.detailsUrl ? { details_url: opts.detailsUrl } : {}),
    ...(opts.externalId ? { external_id: opts.externalId } : {}),
    ...(opts.output ? { output: fitCheckRunOutput(opts.output) } : {}),
  });
  return { id: data.id, htmlUrl: data.html_url };
}
