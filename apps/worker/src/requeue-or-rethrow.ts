import { DelayedError, type Job } from 'bullmq';
import { HandBackError } from './hand-back-error.ts';
import { rateLimitedUntil } from './rate-limited-until.ts';

/** How soon a handed-back job may be taken again (by another worker, this one is stopping). */
const HAND_BACK_DELAY_MS = 1000;

/**
 * Rethrow a processor's `error`, unless the job must go back to the queue without spending one
 * of its attempts: the worker is shutting down (another worker takes the job), or GitHub
 * rate-limited it (it waits until the limit ends: attempts are few and seconds apart, a limit
 * can last up to an hour, and a job failed for good leaves the PR's comment pending).
 */
export async function requeueOrRethrow(
  job: Job,
  token: string | undefined,
  error: unknown,
  onRateLimited?: (limit: 'primary' | 'secondary') => void,
): Promise<never> {
  if (!token) throw error;
  if (error instanceof HandBackError) {
    await job.moveToDelayed(Date.now() + HAND_BACK_DELAY_MS, token);
    throw new DelayedError();
  }
  const until = rateLimitedUntil(error, Date.now());
  if (until === undefined) throw error;
  onRateLimited?.(rateLimitKindOf(error));
  await job.log(`GitHub rate limit: waiting until ${new Date(until).toISOString()} to try again`);
  await job.moveToDelayed(until, token);
  throw new DelayedError();
}

/** A secondary limit announces `retry-after`; a primary one only its reset time. */
function rateLimitKindOf(error: unknown): 'primary' | 'secondary' {
  const headers = (error as { response?: { headers?: Record<string, unknown> } }).response?.headers;
  return headers?.['retry-after'] !== undefined ? 'secondary' : 'primary';
}
