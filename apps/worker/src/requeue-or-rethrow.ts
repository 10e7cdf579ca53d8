import { permanentGitHubError } from '@evalbot/github';
import { DelayedError, type Job, UnrecoverableError } from 'bullmq';
import { HandBackError } from './hand-back-error.ts';
import { rateLimitedUntil } from './rate-limited-until.ts';
import type { RateLimit } from './worker-metrics.ts';

/** How soon a handed-back job may be taken again (by another worker, this one is stopping). */
const HAND_BACK_DELAY_MS = 1000;

/**
 * Rethrow a processor's `error`, unless the job must go back to the queue without spending one
 * of its attempts: the worker is shutting down (another worker takes the job), or GitHub
 * rate-limited it (it waits until the limit ends: attempts are few and seconds apart, a limit
 * can last up to an hour, and a job failed for good leaves the PR's comment pending).
 * A GitHub answer that will not change (401, 403 without a rate limit, 404, 422) fails the job
 * at once instead of spending its remaining attempts on it.
 */
export async function requeueOrRethrow(
  job: Job,
  token: string | undefined,
  error: unknown,
  onRateLimited?: (limit: RateLimit) => void,
): Promise<never> {
  if (!token) throw error;
  if (error instanceof HandBackError) {
    await job.moveToDelayed(Date.now() + HAND_BACK_DELAY_MS, token);
    throw new DelayedError();
  }
  const until = rateLimitedUntil(error, Date.now());
  if (until === undefined) throw permanentAsUnrecoverable(error);
  onRateLimited?.(rateLimitKindOf(error));
  await job.log(`GitHub rate limit: waiting until ${new Date(until).toISOString()} to try again`);
  await job.moveToDelayed(until, token);
  throw new DelayedError();
}

/** A secondary limit announces `retry-after`; a primary one only its reset time. */
function rateLimitKindOf(error: unknown): RateLimit {
  const headers = (error as { response?: { headers?: Record<string, unknown> } }).response?.headers;
  return headers?.['retry-after'] !== undefined ? 'secondary' : 'primary';
}

function permanentAsUnrecoverable(error: unknown): unknown {
  if (error instanceof UnrecoverableError) return error;
  const info = permanentGitHubError(error);
  if (!info) return error;
  const failure = new UnrecoverableError(
    `GitHub answered ${info.status} (${info.message}${info.requestId ? `, request ${info.requestId}` : ''}); not retried: the same request would be refused again`,
  );
  failure.cause = error;
  return failure;
}
