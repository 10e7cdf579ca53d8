/**
 * Redis keys that evalbot keeps beside BullMQ's own, all under the queue prefix so one
 * `--prefix` (or a test's `testPrefix()`) isolates everything.
 */
export const redisKeys = {
  /** The newest head SHA enqueued for a PR, or `cancelled` (see docs/architecture.md). */
  pullRequestHead: (prefix: string, prKey: string) => `${prefix}:pr:${prKey}:head`,
  /** `pull_request.updated_at` (ms) of the event that last set the head: orders late deliveries. */
  pullRequestUpdatedAt: (prefix: string, prKey: string) => `${prefix}:pr:${prKey}:updated-at`,
  /** Compare-job ids enqueued for a PR, so closing or superseding it can find its pending work. */
  pullRequestJobs: (prefix: string, prKey: string) => `${prefix}:pr:${prKey}:jobs`,
  /** Channel of {@link PullRequestEvent} messages. */
  pullRequestEvents: (prefix: string) => `${prefix}:pr-events`,
  /** The compare-job id of the live evaluation with this evaluation key (deduplication). */
  evaluation: (prefix: string, evaluationKey: string) => `${prefix}:evaluation:${evaluationKey}`,
  /** Set once a webhook delivery has been acted on, so a redelivery is not acted on twice. */
  delivery: (prefix: string, deliveryId: string) => `${prefix}:delivery:${deliveryId}`,
};

/** How long per-PR state lives after its last change. */
export const PULL_REQUEST_STATE_TTL_SECONDS = 90 * 24 * 3600;
