/**
 * Redis keys that evalbot keeps beside BullMQ's own, all under the queue prefix so one
 * `--prefix` (or a test's `testPrefix()`) isolates everything.
 */
export const redisKeys = {
  /** The newest head SHA enqueued for a PR, or `cancelled` (see docs/architecture.md). */
  pullRequestHead: (prefix: string, prKey: string) => `${prefix}:pr:${prKey}:head`,
  /** `pull_request.updated_at` (ms) of the event that last set the head: orders late deliveries. */
  pullRequestUpdatedAt: (prefix: string, prKey: string) => `${prefix}:pr:${prKey}:updated-at`,
  /** Why the PR's work was last cancelled (`closed`, `unlabeled`), for the comment. */
  pullRequestCancelReason: (prefix: string, prKey: string) => `${prefix}:pr:${prKey}:cancel-reason`,
  /** The head whose evaluation shows ⏳ in the PR comment right now (worker-owned). */
  pullRequestInProgressHead: (prefix: string, prKey: string) => `${prefix}:pr:${prKey}:in-progress-head`,
  /** Per-PR lock held by a worker while it edits the PR's comment and check runs. */
  pullRequestLock: (prefix: string, prKey: string) => `${prefix}:lock:pr:${prKey}`,
  /** The check run of one evaluation (compare-job id). */
  evaluationCheckRun: (prefix: string, evaluationId: string) =>
    `${prefix}:evaluation-run:${evaluationId}:check-run`,
  /** Set once an evaluation has shown that it started (⏳ comment, check run in progress). */
  evaluationStarted: (prefix: string, evaluationId: string) =>
    `${prefix}:evaluation-run:${evaluationId}:started`,
  /** Compare-job ids enqueued for a PR, so closing or superseding it can find its pending work. */
  pullRequestJobs: (prefix: string, prKey: string) => `${prefix}:pr:${prKey}:jobs`,
  /** Channel of {@link PullRequestEvent} messages. */
  pullRequestEvents: (prefix: string) => `${prefix}:pr-events`,
  /** The compare-job id of the live evaluation with this evaluation key (deduplication). */
  evaluation: (prefix: string, evaluationKey: string) => `${prefix}:evaluation:${evaluationKey}`,
  /** A successful result by result key (what was evaluated), reused by any side with that key (worker). */
  result: (prefix: string, resultKey: string) => `${prefix}:result:${resultKey}`,
  /** The result key of a commit key (commit, settings' base, interpreter): reuse without a clone (worker). */
  resultKeyOfCommit: (prefix: string, commitKey: string) => `${prefix}:result-key:${commitKey}`,
  /** Whether an evaluation's fork commits may run, decided once for all its jobs (worker). */
  forkGuard: (prefix: string, evaluationKey: string) => `${prefix}:fork-guard:${evaluationKey}`,
  /** Workers serving a pool (`WORKER_POOLS`), scored by their last heartbeat (Redis time, ms). */
  poolWorkers: (prefix: string, pool: string) => `${prefix}:pool:${pool}:workers`,
  /** Set once a webhook delivery has been acted on, so a redelivery is not acted on twice. */
  delivery: (prefix: string, deliveryId: string) => `${prefix}:delivery:${deliveryId}`,
  /** Set once the recovery job asked GitHub to redeliver a delivery guid: never asked twice. */
  redeliveryAsked: (prefix: string, guid: string) => `${prefix}:redelivery-asked:${guid}`,
};

/** How long per-PR state lives after its last change. */
export const PULL_REQUEST_STATE_TTL_SECONDS = 90 * 24 * 3600;
