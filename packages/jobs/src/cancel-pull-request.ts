import type { JobProducer, RedisConnection } from './job-producer.ts';
import { type PullRequestRef, pullRequestKeyOf } from './payloads.ts';
import { setPullRequestHead } from './pull-request-state.ts';
import { PULL_REQUEST_STATE_TTL_SECONDS, redisKeys } from './redis-keys.ts';
import { type RemovedEvaluations, removePendingEvaluations } from './remove-pending-evaluations.ts';

export type CancelPullRequestResult =
  | ({ status: 'cancelled'; prKey: string } & RemovedEvaluations)
  /** A newer event of this PR was already applied (e.g. the label was added again); nothing done. */
  | { status: 'stale'; prKey: string; currentHead: string | null };

/**
 * Cancel a PR's pending work (closed, or evaluate label removed): mark its head `cancelled`,
 * publish that on `<prefix>:pr-events` so workers kill running sides, and remove every waiting
 * or delayed job of its evaluations.
 */
export async function cancelPullRequest(
  producer: JobProducer<RedisConnection>,
  opts: {
    pr: Pick<PullRequestRef, 'owner' | 'repo' | 'number'>;
    reason: string;
    /** `pull_request.updated_at` of the event; an event older than the PR's state is stale. */
    updatedAt?: string;
  },
): Promise<CancelPullRequestResult> {
  const prKey = pullRequestKeyOf(opts.pr);
  // Written first so a worker that hears the event can already say why (closed or unlabeled).
  await producer.connection.set(
    redisKeys.pullRequestCancelReason(producer.prefix, prKey),
    opts.reason,
    'EX',
    PULL_REQUEST_STATE_TTL_SECONDS,
  );
  const head = await setPullRequestHead(producer.connection, {
    prefix: producer.prefix,
    prKey,
    headSha: null,
    reason: opts.reason,
    updatedAt: opts.updatedAt,
  });
  if (!head.applied) return { status: 'stale', prKey, currentHead: head.current };
  const removed = await removePendingEvaluations(producer, { prKey });
  return { status: 'cancelled', prKey, ...removed };
}
