import { randomUUID } from 'node:crypto';
import { buildEvaluationFlow } from './build-evaluation-flow.ts';
import { jobCatalog } from './job-catalog.ts';
import type { JobProducer, RedisConnection } from './job-producer.ts';
import {
  type EvaluationRequest,
  evaluationKeyOf,
  type PullRequestRef,
  pullRequestKeyOf,
  pullRequestRefSchema,
  requestSchema,
} from './payloads.ts';
import { SET_HEAD_LUA, setHeadArgs } from './pull-request-state.ts';
import { PULL_REQUEST_STATE_TTL_SECONDS, redisKeys } from './redis-keys.ts';
import { releaseEvaluationKey, removePendingEvaluations } from './remove-pending-evaluations.ts';

export type EnqueueEvaluationResult =
  /** A new flow is in Redis; `superseded` older flows of the PR had their waiting work removed. */
  | { status: 'queued'; jobId: string; evaluationKey: string; superseded: string[] }
  /** The same (repo, PR, head, base) is already queued or running as `jobId`. */
  | { status: 'duplicate'; jobId: string; evaluationKey: string }
  /** A newer event of this PR was already applied (GitHub delivers out of order); nothing done. */
  | { status: 'stale'; evaluationKey: string; currentHead: string | null };

export interface EnqueueEvaluationOptions {
  pr: PullRequestRef;
  request: EvaluationRequest;
  /** How long a reservation whose flow is not in Redis yet counts as in flight. Default 10 s. */
  inFlightMs?: number;
}

// Atomic head-then-reserve, one round trip. First the PR's head is set (see SET_HEAD_LUA); a
// stale event stops there. Then the evaluation key is checked and reserved. The pointer holds
// `<jobId>|<reservedAtMs>`. It names a live evaluation while that compare job exists and has not
// finished, or, before the flow is written, for `inFlightMs` — so two concurrent requests cannot
// both enqueue, and a reservation whose enqueue failed (Redis died mid-way) lapses by itself.
// Replies {0, currentHead} (stale), {2, liveJobId} (duplicate) or {1, olderJobIds} (reserved):
// the PR's evaluations indexed before this one, the only ones this enqueue may supersede.
const HEAD_AND_RESERVE_SCRIPT = `${SET_HEAD_LUA}
local applied, head = setHead(KEYS[1], KEYS[2], KEYS[3], ARGV[1], ARGV[2], ARGV[3], ARGV[4])
if applied == 0 then return {0, head or false} end
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local current = redis.call('GET', KEYS[4])
if current then
  local sep = string.find(current, '|', 1, true)
  if sep then
    local id = string.sub(current, 1, sep - 1)
    local reservedAt = tonumber(string.sub(current, sep + 1)) or 0
    if redis.call('EXISTS', ARGV[5] .. id) == 1 then
      if not redis.call('ZSCORE', ARGV[5] .. 'completed', id) and not redis.call('ZSCORE', ARGV[5] .. 'failed', id) then
        return {2, id}
      end
    elseif now - reservedAt < tonumber(ARGV[7]) then
      return {2, id}
    end
  end
end
redis.call('SET', KEYS[4], ARGV[6] .. '|' .. now, 'EX', ARGV[8])
local older = redis.call('SMEMBERS', KEYS[5])
redis.call('SADD', KEYS[5], ARGV[6])
redis.call('EXPIRE', KEYS[5], ARGV[8])
return {1, older}
`;

/**
 * Enqueue the evaluation flow of a PR's head against its base, unless the same evaluation is
 * already queued or running. A finished one is run again (an explicit `/evaluate` or a re-added
 * label asks for exactly that). Before the flow is written the PR's head is recorded and
 * published (`<prefix>:pr:<prKey>:head`, `<prefix>:pr-events`), so workers stop older runs;
 * after it, older flows' waiting work is removed.
 *
 * Used by the worker's router (label, push, reopen, from the delivery log) and by `/evaluate` commands.
 */
export async function enqueueEvaluation(
  producer: JobProducer<RedisConnection>,
  opts: EnqueueEvaluationOptions,
): Promise<EnqueueEvaluationResult> {
  const pr = pullRequestRefSchema.parse(opts.pr);
  const request = requestSchema.parse(opts.request);
  const { connection, prefix } = producer;
  const prKey = pullRequestKeyOf(pr);
  const evaluationKey = evaluationKeyOf(pr);

  const jobId = `eval-${randomUUID()}`;
  const flow = buildEvaluationFlow({ pr, request, parentJobId: jobId, prefix });
  const head = setHeadArgs({
    prefix,
    prKey,
    headSha: pr.headSha,
    reason: request.trigger,
    updatedAt: pr.updatedAt,
  });
  const [outcome, reply] = (await connection.eval(
    HEAD_AND_RESERVE_SCRIPT,
    5,
    ...head.keys,
    redisKeys.evaluation(prefix, evaluationKey),
    redisKeys.pullRequestJobs(prefix, prKey),
    ...head.argv,
    `${prefix}:${jobCatalog.compare.queue}:`,
    jobId,
    String(opts.inFlightMs ?? 10_000),
    String(PULL_REQUEST_STATE_TTL_SECONDS),
  )) as [0, string | null] | [2, string] | [1, string[]];
  if (outcome === 0) return { status: 'stale', evaluationKey, currentHead: reply ?? null };
  if (outcome === 2) return { status: 'duplicate', jobId: reply, evaluationKey };

  try {
    await producer.flowProducer.add(flow);
  } catch (error) {
    await releaseEvaluationKey(producer, evaluationKey, jobId).catch(() => {});
    throw error;
  }
  // Best effort: the flow is in Redis, which is what the caller must know. Older flows left
  // behind are skipped by the workers anyway, since the PR's head has moved on.
  const superseded =
    reply.length === 0
      ? { removed: [], running: [] }
      : await removePendingEvaluations(producer, { prKey, jobIds: reply }).catch(() => ({
          removed: [],
          running: [],
        }));
  return {
    status: 'queued',
    jobId,
    evaluationKey,
    superseded: [...superseded.removed, ...superseded.running],
  };
}
