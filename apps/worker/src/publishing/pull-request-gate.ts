import { type PullRequestRef, pullRequestKeyOf, readPullRequestHead, redisKeys } from '@evalbot/jobs';
import type { CancelReason } from '@evalbot/report';
import type { Redis } from 'ioredis';
import { type RedisMutexOptions, withRedisMutex } from '../redis-mutex.ts';
import type { PublishContext } from './publish-output.ts';

/** How long the per-PR and per-evaluation keys of publishing live. */
export const KEY_TTL_SECONDS = 30 * 24 * 3600;

/** Where a PR stands for one evaluation, read under the lock. */
export interface GateState {
  /** The head the PR wants: a SHA, `cancelled`, or null when nothing is recorded (CLI runs, expired). */
  wanted: string | null;
  /** True while the evaluation's head is the one the PR wants. */
  current: boolean;
}

/**
 * Who may publish on a PR, and when: the per-PR lock shared by every worker, "is this still
 * the PR's current head", and the per-PR state publishing keeps (which head the comment shows
 * as evaluating, whether an evaluation has started, why the PR's work was cancelled). It
 * writes nothing to GitHub.
 */
export class PullRequestGate {
  constructor(private readonly deps: { redis: Redis; prefix: string; lock?: RedisMutexOptions }) {}

  private keys(ctx: PublishContext) {
    const prKey = pullRequestKeyOf(ctx.pr);
    const p = this.deps.prefix;
    return {
      lock: redisKeys.pullRequestLock(p, prKey),
      started: redisKeys.evaluationStarted(p, ctx.evaluationId),
      inProgressHead: redisKeys.pullRequestInProgressHead(p, prKey),
      cancelReason: redisKeys.pullRequestCancelReason(p, prKey),
    };
  }

  /** Run `fn` holding the PR's lock (renewed while held), with the PR's state read under it. */
  withTurn<T>(ctx: PublishContext, fn: (state: GateState) => Promise<T>): Promise<T> {
    return withRedisMutex(
      this.deps.redis,
      this.keys(ctx).lock,
      async () => fn(await this.state(ctx.pr)),
      this.deps.lock,
    );
  }

  /** The PR's state without the lock: for a quick look before waiting for it. */
  async state(pr: PullRequestRef): Promise<GateState> {
    const wanted = await readPullRequestHead(this.deps.redis, this.deps.prefix, pullRequestKeyOf(pr));
    // No state recorded (expired, or a CLI-driven run): the evaluation is current.
    return { wanted, current: wanted === null || wanted === pr.headSha };
  }

  async hasStarted(ctx: PublishContext): Promise<boolean> {
    return (await this.deps.redis.exists(this.keys(ctx).started)) === 1;
  }

  /** Record that `ctx`'s evaluation has shown it started, and that the comment shows its head. */
  async markStarted(ctx: PublishContext): Promise<void> {
    const keys = this.keys(ctx);
    await this.deps.redis
      .multi()
      .set(keys.started, '1', 'EX', KEY_TTL_SECONDS)
      .set(keys.inProgressHead, ctx.pr.headSha, 'EX', KEY_TTL_SECONDS)
      .exec();
  }

  /** The head the PR's comment shows as being evaluated, if any. */
  inProgressHead(ctx: PublishContext): Promise<string | null> {
    return this.deps.redis.get(this.keys(ctx).inProgressHead);
  }

  /** The comment no longer shows `ctx`'s head as being evaluated. */
  async clearInProgress(ctx: PublishContext): Promise<void> {
    const key = this.keys(ctx).inProgressHead;
    if ((await this.deps.redis.get(key)) === ctx.pr.headSha) await this.deps.redis.del(key);
  }

  async cancelReason(ctx: PublishContext): Promise<CancelReason> {
    const reason = await this.deps.redis.get(this.keys(ctx).cancelReason);
    return reason === 'unlabeled' ? 'unlabeled' : 'closed';
  }
}
