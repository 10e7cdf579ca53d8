import type { Octokit } from '@octokit/rest';
import { fitCheckRunOutput } from './check-run-output.ts';
import type { CheckRunRef } from './create-check-run.ts';
import type { CheckRunConclusion, CheckRunOutput } from './github-facts.ts';

export interface CompleteCheckRunOptions {
  owner: string;
  repo: string;
  checkRunId: number;
  conclusion: CheckRunConclusion;
  output: CheckRunOutput;
  completedAt?: Date;
  detailsUrl?: string;
}

/** Finish a check run with its conclusion and report. */
export async function completeCheckRun(
  octokit: Octokit,
  opts: CompleteCheckRunOptions,
): Promise<CheckRunRef> {
  const { data } = await octokit.rest.checks.update({
    owner: opts.owner,
    repo: opts.repo,
    check_run_id: opts.checkRunId,
    status: 'completed',
    conclusion: opts.conclusion,
    completed_at: (opts.completedAt ?? new Date()).toISOString(),
    output: fitCheckRunOutput(opts.output),
    ...(opts.detailsUrl ? { details_url: opts.detailsUrl } : {}),
  });
  return { id: data.id, htmlUrl: data.html_url };
}

export interface UpdateCheckRunOptions {
  owner: string;
  repo: string;
  checkRunId: number;
  status?: 'queued' | 'in_progress';
  output?: CheckRunOutput;
}

/** Show progress on a running check run (status and/or output) without completing it. */
export async function updateCheckRun(octokit: Octokit, opts: UpdateCheckRunOptions): Promise<CheckRunRef> {
  const { data } = await octokit.rest.checks.update({
    owner: opts.owner,
    repo: opts.repo,
    check_run_id: opts.checkRunId,
    ...(opts.status ? { status: opts.status } : {}),
    ...(opts.output ? { output: fitCheckRunOutput(opts.output) } : {}),
  });
  return { id: data.id, htmlUrl: data.html_url };
}
