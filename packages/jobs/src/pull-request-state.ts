import { z } from 'zod';
import type { RedisConnection } from './job-producer.ts';
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
// than the last applied one (by pull_request.updated_at, then eventOrderOf's rank) is refused; the channel hears only changes.
// A Lua function so that enqueueEvaluation can set the head and reserve in one script.
export const SET_HEAD_LUA = `
local function setHead(headKey, updatedAtKey, channel, value, atText, message, ttl)
  local at = tonumber(atText)
  local stored = tonumber(redis.call('GET', updatedAtKey) or '-1')
  local current = redis.call('GET', headKey)
  if at >= 0 and stored > at then return 0, current end
  redis.call('SET', headKey, value, 'EX', ttl)
  if at >= 0 then redis.call('SET', updatedAtKey, atText, 'EX', ttl) end
  if current ~= value then redis.call('PUBLISH', channel, message) end
  return 1, current
end
`;

const SET_HEAD_SCRIPT = `${SET_HEAD_LUA}
local applied, current = setHead(KEYS[1], KEYS[2], KEYS[3], ARGV[1], ARGV[2], ARGV[3], ARGV[4])
return {applied, current or false}
`;

export interface SetHeadOptions {
  prefix: string;
  prKey: string;
  headSha: string | null;
  reason: string;
  updatedAt?: string;
}

/**
 * `updated_at` has whole seconds, so a label and a push of the same second tie. The push names
 * the newer head (the label event carries the head it saw), so within one second a `synchronize`
 * outranks a label, reopen or comment; a cancel ranks with the push (then arrival order decides).
 */
const SAME_SECOND_RANK: Record<string, number> = { synchronize: 1, closed: 1, unlabeled: 1 };

/** The order of an event: `updated_at` in ms, then its same-second rank (see above). */
function eventOrderOf(updatedAt: string | undefined, reason: string): number {
  const ms = updatedAt ? Date.parse(updatedAt) : Number.NaN;
  if (!Number.isFinite(ms)) return -1;
  return ms * 10 + (SAME_SECOND_RANK[reason] ?? 0);
}

/** The 3 keys and 4 arguments of `setHead` in {@link SET_HEAD_LUA}, in its order. */
export function setHeadArgs(opts: SetHeadOptions): { keys: string[]; argv: string[] } {
  const at = eventOrderOf(opts.updatedAt, opts.reason);
  const message: PullRequestEvent = { prKey: opts.prKey, headSha: opts.headSha, reason: opts.reason };
  return {
    keys: [
      redisKeys.pullRequestHead(opts.prefix, opts.prKey),
      redisKeys.pullRequestUpdatedAt(opts.prefix, opts.prKey),
      redisKeys.pullRequestEvents(opts.prefix),
    ],
    argv: [
      opts.headSha ?? CANCELLED_HEAD,
      String(at),
      JSON.stringify(message),
      String(PULL_REQUEST_STATE_TTL_SECONDS),
    ],
  };
}

/**
 * Record the head SHA now wanted for a PR (or {@link CANCELLED_HEAD} with `headSha: null`) and
 * publish a {@link PullRequestEvent} when it changed, so workers stop superseded work at once.
 * With `updatedAt`, an event older than the one last applied is not applied (`applied: false`).
 */
export async function setPullRequestHead(
  redis: RedisConnection,
  opts: SetHeadOptions,
): Promise<SetHeadResult> {
  const { keys, argv } = setHeadArgs(opts);
  const [applied, previous] = (await redis.eval(SET_HEAD_SCRIPT, keys.length, ...keys, ...argv)) as [
    number,
    string | null,
  ];
  const value = opts.headSha ?? CANCELLED_HEAD;
  if (applied === 1) return { applied: true, changed: previous !== value, previous: previous ?? null };
  return { applied: false, current: previous ?? null };
}

/** The head SHA a PR's work must match, `cancelled`, or null when nothing was recorded. */
export async function readPullRequestHead(redis: RedisConnection, prefix: string, prKey: string) {
  return redis.get(redisKeys.pullRequestHead(prefix, prKey));
}
