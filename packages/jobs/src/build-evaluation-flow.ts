import type { FlowJob } from 'bullmq';
import { COMPARE_JOB_OPTIONS, EVALUATE_JOB_OPTIONS } from './job-options.ts';
import {
  type CompareJob,
  compareJobSchema,
  type EvaluateJob,
  type EvaluationRequest,
  evaluateJobSchema,
  evaluationKeyOf,
  type PullRequestRef,
} from './payloads.ts';
import { COMPARE_QUEUE, EVALUATE_QUEUE } from './queue-names.ts';

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
 * per side (ids `<parentJobId>-head` / `-base`). Every payload is parsed by its schema here, so
 * nothing malformed reaches Redis.
 */
export function buildEvaluationFlow(opts: {
  pr: PullRequestRef;
  request: EvaluationRequest;
  parentJobId: string;
  prefix: string;
}): FlowJob {
  const { pr, request, parentJobId, prefix } = opts;
  const child = (side: 'head' | 'base'): FlowJob => {
    const data: EvaluateJob = evaluateJobSchema.parse({
      pr,
      request,
      side,
      sha: side === 'head' ? pr.headSha : pr.baseSha,
      fetchRefs: fetchRefsFor(pr, side),
    });
    return {
      name: `evaluate-${side}`,
      queueName: EVALUATE_QUEUE,
      prefix,
      data,
      opts: { ...EVALUATE_JOB_OPTIONS, jobId: `${parentJobId}-${side}` },
    };
  };
  const data: CompareJob = compareJobSchema.parse({ pr, request, evaluationKey: evaluationKeyOf(pr) });
  return {
    name: 'compare',
    queueName: COMPARE_QUEUE,
    prefix,
    data,
    opts: { ...COMPARE_JOB_OPTIONS, jobId: parentJobId },
    children: [child('head'), child('base')],
  };
}
