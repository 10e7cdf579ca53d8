import type { Redis } from 'ioredis';
import { z } from 'zod';
import { PULL_REQUEST_STATE_TTL_SECONDS, redisKeys } from './redis-keys.ts';

/** The value of `<prefix>:pr:<prKey>:head` once the PR was closed or its label removed. */
export const CANCELLED_HEAD = 'cancelled';

/** A message on `<prefix>:pr-events`: the PR's wanted head changed; older work can stop. */
export const pullRequestEventSchema = z.object({
  prKey: z.string(),
  /** The head now wanted, or null when the PR's work is cancelled. */
  headSha: z.string().nullable(),
  /** Why, e.g. `synchronize`, `closed`, `unlabeled`. */
  reason: z.string(),
});
export type PullRequestEvent = z.infer<typeof pullRequestEventSchema>;

export type SetHeadResult =
  | { applied: true; changed: boolean; previous: string | null }
  | { applied: false; current: string | null };

// Atomic so that two gateways handling two events of one PR cannot interleave: an event older
// than the last applied one (by pull_request.updated_at) is refused; the channel hears only changes.
const SET_HEAD_SCRIPT = `
local at = tonumber(ARGV[2])
local stored = tonumber(redis.call('GET', KEYS[2]) or '-1')
local current = redis.call('GET', KEYS[1])
if at >= 0 and stored > at then return {0, current or false} end
redis.call('SET', KEYS[1], ARGV[1], 'EX', ARGV[4])
if at >= 0 then redis.call('SET', KEYS[2], ARGV[2], 'EX', ARGV[4]) end
if current ~= ARGV[1] then redis.call('PUBLISH', KEYS[3], ARGV[3]) end
return {1, current or false}
`;

/**
 * Record the head SHA now wanted for a PR (or {@link CANCELLED_HEAD} with `headSha: null`) and
 * publish a {@link PullRequestEvent} when it changed, so workers stop superseded work at once.
 * With `updatedAt`, an event older than the one last applied is not applied (`applied: false`).
 */
export async function setPullRequestHead(
  redis: Redis,
  opts: { prefix: string; prKey: string; headSha: string | null; reason: string; updatedAt?: string },
): Promise<SetHeadResult> {
  const value = opts.headSha ?? CANCELLED_HEAD;
  const at = opts.updatedAt ? Date.parse(opts.updatedAt) : -1;
  const message: PullRequestEvent = { prKey: opts.prKey, headSha: opts.headSha, reason: opts.reason };
  const [applied, previous] = (await redis.eval(
    SET_HEAD_SCRIPT,
    3,
    redisKeys.pullRequestHead(opts.prefix, opts.prKey),
    redisKeys.pullRequestUpdatedAt(opts.prefix, opts.prKey),
    redisKeys.pullRequestEvents(opts.prefix),
    value,
    String(Number.isFinite(at) ? at : -1),
    JSON.stringify(message),
    String(PULL_REQUEST_STATE_TTL_SECONDS),
  )) as [number, string | null];
  if (applied === 1) return { applied: true, changed: previous !== value, previous: previous ?? null };
  return { applied: false, current: previous ?? null };
}

/** The head SHA a PR's work must match, `cancelled`, or null when nothing was recorded. */
export async function readPullRequestHead(redis: Redis, prefix: string, prKey: string) {
  return redis.get(redisKeys.pullRequestHead(prefix, prKey));
}
