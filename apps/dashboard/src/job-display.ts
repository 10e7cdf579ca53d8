import { jobCatalog, prKeyOfWork } from '@evalbot/jobs';

/** The parts of a job Bull Board hands to its formatters. */
export interface JobJson {
  name?: string;
  data?: unknown;
}

const short = (sha: string) => sha.slice(0, 7);

/**
 * The title a job gets on the board, derived from its data so the PR is visible whatever name
 * the job was enqueued with: `owner/repo#12 head abc1234` for one side,
 * `owner/repo#12 compare abc1234..def5678` for the flow's parent, `owner/repo#12 /evaluate by
 * mona` for a comment command, `owner/repo#12 pull_request.labeled <delivery id>` for a recorded
 * delivery. Anything else keeps its name.
 */
export function jobTitle(job: JobJson): string {
  const evaluate = jobCatalog.evaluate.safeParse(job.data);
  if (evaluate.success) {
    const { pr, side, sha } = evaluate.data;
    return `${pr.owner}/${pr.repo}#${pr.number} ${side} ${short(sha)}`;
  }
  const compare = jobCatalog.compare.safeParse(job.data);
  if (compare.success) {
    const { pr } = compare.data;
    return `${pr.owner}/${pr.repo}#${pr.number} compare ${short(pr.headSha)}..${short(pr.baseSha)}`;
  }
  const command = jobCatalog.command.safeParse(job.data);
  if (command.success) {
    const { pr, request } = command.data;
    return `${pr.owner}/${pr.repo}#${pr.number} /evaluate by ${request.sender}`;
  }
  const delivery = jobCatalog.delivery.safeParse(job.data);
  if (delivery.success) {
    const { work, event, action, deliveryId } = delivery.data;
    return `${prKeyOfWork(work)} ${event}.${action} ${deliveryId}`;
  }
  return job.name ?? '';
}

/** A link from the job to its pull request on GitHub, when the job is about one. */
export function pullRequestLink(job: JobJson): { href: string; displayText: string } | undefined {
  const pr =
    jobCatalog.evaluate.safeParse(job.data).data?.pr ??
    jobCatalog.compare.safeParse(job.data).data?.pr ??
    jobCatalog.command.safeParse(job.data).data?.pr ??
    deliveryPullRequest(job.data);
  if (!pr) return undefined;
  return { href: `${pr.repoHtmlUrl}/pull/${pr.number}`, displayText: `Open PR #${pr.number}` };
}

function deliveryPullRequest(data: unknown) {
  const work = jobCatalog.delivery.safeParse(data).data?.work;
  if (work?.kind === 'evaluate') return work.pr;
  if (work?.kind === 'command') return work.job.pr;
  return undefined;
}
