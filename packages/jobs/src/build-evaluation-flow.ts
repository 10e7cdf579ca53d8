import type { FlowJob } from 'bullmq';
import { jobOf } from './job-catalog.ts';
import { type EvaluationRequest, evaluationKeyOf, type PullRequestRef } from './payloads.ts';

/**
 * What to fetch from `pr.cloneUrl` to get one side: the SHA first (servers that allow fetching
 * any reachable commit), then a ref that points at it — `refs/pull/N/head` for a fork's head
 * (the base repo has no branch for it), else the branch.
 */
export function fetchRefsFor(pr: PullRequestRef, side: 'head' | 'base'): string[] {
  if (side === 'base') return [pr.baseSha, `refs/heads/${pr.baseRef}`];
  return [pr.headSha, pr.fromFork ? `refs/pull/${pr.number}/head` : `refs/heads/${pr.headRef}`];
}

/**
 * The BullMQ flow of one evaluation: a compare parent (id `parentJobId`) over an evaluate child
 * per side (ids `<parentJobId>-head` / `-base`). Every payload is parsed by the catalog's schema
 * here, so nothing malformed reaches Redis.
 */
export function buildEvaluationFlow(opts: {
  pr: PullRequestRef;
  request: EvaluationRequest;
  parentJobId: string;
  prefix: string;
}): FlowJob {
  const { pr, request, parentJobId, prefix } = opts;
  const child = (side: 'head' | 'base'): FlowJob => ({
    ...jobOf(
      'evaluate',
      {
        pr,
        request,
        side,
        sha: side === 'head' ? pr.headSha : pr.baseSha,
        fetchRefs: fetchRefsFor(pr, side),
      },
      { jobId: `${parentJobId}-${side}` },
    ),
    prefix,
  });
  return {
    ...jobOf('compare', { pr, request, evaluationKey: evaluationKeyOf(pr) }, { jobId: parentJobId }),
    prefix,
    children: [child('head'), child('base')],
  };
}
