/** A little past the announced time: GitHub's reset is in whole seconds. */
const MARGIN_MS = 1000;
/** GitHub's primary rate limit window; no limit announces a longer wait. */
const MAX_WAIT_MS = 3600_000;

/**
 * When the GitHub rate limit that made this call fail ends (epoch ms), or undefined when the
 * error is not a rate limit: a secondary limit's `retry-after`, or a primary limit's
 * `x-ratelimit-reset` once `x-ratelimit-remaining` is 0. Octokit's throttling waits for short
 * limits itself; a job that meets a longer one must wait for it rather than spend its attempts.
 */
export function rateLimitedUntil(error: unknown, now: number): number | undefined {
  const e = (error ?? {}) as { status?: unknown; response?: { headers?: Record<string, unknown> } };
  if (e.status !== 403 && e.status !== 429) return undefined;
  const headers = e.response?.headers ?? {};
  const retryAfter = Number(headers['retry-after']);
  if (headers['retry-after'] !== undefined && Number.isFinite(retryAfter) && retryAfter >= 0) {
    return now + Math.min(retryAfter * 1000, MAX_WAIT_MS) + MARGIN_MS;
  }
  const reset = Number(headers['x-ratelimit-reset']) * 1000;
  if (String(headers['x-ratelimit-remaining']) === '0' && Number.isFinite(reset)) {
    return Math.min(Math.max(reset, now), now + MAX_WAIT_MS) + MARGIN_MS;
  }
  return undefined;
}
