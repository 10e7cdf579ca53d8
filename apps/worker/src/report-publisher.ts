import {
  completeCheckRun,
  createCheckRun,
  findPullRequestComment,
  type GitHubApp,
  type GitHubClient,
  upsertPullRequestComment,
} from '@evalbot/github';
import {
  type EvaluationRequest,
  type PullRequestRef,
  pullRequestKeyOf,
  readPullRequestHead,
  redisKeys,
} from '@evalbot/jobs';
import type { Logger } from '@evalbot/logger';
import {
  type CancelReason,
  type CheckRunOutput,
  type HistoryEntry,
  parseReportHistory,
  type Report,
  renderCancelled,
  renderCancelledComment,
  renderPending,
  renderPendingCheckRun,
  renderSuperseded,
} from '@evalbot/report';
import type { Redis } from 'ioredis';
import { withRedisMutex } from './redis-mutex.ts';

/** One evaluation being published: the compare job's id names it. */
export interface PublishContext {
  pr: PullRequestRef;
  request: EvaluationRequest;
  evaluationId: string;
  log: Logger;
}

export const CHECK_RUN_NAME = 'evalbot';
const KEY_TTL_SECONDS = 30 * 24 * 3600;

/**
 * Everything evalbot shows on a PR: the one comment (pending → report, or cancelled) and the
 * check run (in progress → conclusion). Every change happens under a per-PR Redis lock and only
 * while the evaluation's head is still the PR's wanted head, so a late or retried job never
 * overwrites a newer result, and the PR ends with exactly one, current comment.
 */
export class ReportPublisher {
  constructor(
    private readonly deps: {
      github: GitHubApp;
      redis: Redis;
      prefix: string;
      now: () => Date;
    },
  ) {}

  private keys(ctx: PublishContext) {
    const prKey = pullRequestKeyOf(ctx.pr);
    const p = this.deps.prefix;
    return {
      prKey,
      lock: redisKeys.pullRequestLock(p, prKey),
      checkRun: redisKeys.evaluationCheckRun(p, ctx.evaluationId),
      inProgressHead: redisKeys.pullRequestInProgressHead(p, prKey),
      cancelReason: redisKeys.pullRequestCancelReason(p, prKey),
    };
  }

  private octokit(ctx: PublishContext): GitHubClient {
    return this.deps.github.installationOctokit(ctx.pr.installationId, ctx.log);
  }

  /** True while `ctx`'s head is the one the PR wants (not superseded, not cancelled). */
  async isCurrent(ctx: PublishContext): Promise<{ current: boolean; wanted: string | null }> {
    const wanted = await readPullRequestHead(this.deps.redis, this.deps.prefix, pullRequestKeyOf(ctx.pr));
    // No state recorded (expired, or a CLI-driven run): the evaluation is current.
    return { current: wanted === null || wanted === ctx.pr.headSha, wanted };
  }

  private async previousRuns(octokit: GitHubClient, ctx: PublishContext): Promise<HistoryEntry[]> {
    const previous = await findPullRequestComment(octokit, {
      owner: ctx.pr.owner,
      repo: ctx.pr.repo,
      issueNumber: ctx.pr.number,
      botLogin: await this.deps.github.botLogin(),
    });
    return parseReportHistory(previous?.body);
  }

  private async upsert(octokit: GitHubClient, ctx: PublishContext, body: string) {
    const result = await upsertPullRequestComment(octokit, {
      owner: ctx.pr.owner,
      repo: ctx.pr.repo,
      issueNumber: ctx.pr.number,
      body,
      botLogin: await this.deps.github.botLogin(),
    });
    ctx.log.info({ commentId: result.id, action: result.action }, 'PR comment %s', result.action);
    return result;
  }

  /** Once per evaluation (either side may call it first): in-progress check run and ⏳ comment. */
  async started(ctx: PublishContext): Promise<void> {
    const keys = this.keys(ctx);
    await withRedisMutex(this.deps.redis, keys.lock, async () => {
      if (await this.deps.redis.exists(keys.checkRun)) return;
      if (!(await this.isCurrent(ctx)).current) return;
      const octokit = this.octokit(ctx);
      const startedAt = this.deps.now();
      await this.openCheckRun(
        octokit,
        ctx,
        renderPendingCheckRun({ headSha: ctx.pr.headSha, baseSha: ctx.pr.baseSha, startedAt }),
      );
      const previousHead = await this.deps.redis.get(keys.inProgressHead);
      const body = renderPending({
        pr: ctx.pr,
        headSha: ctx.pr.headSha,
        baseSha: ctx.pr.baseSha,
        startedAt,
        previousRuns: await this.previousRuns(octokit, ctx),
        ...(previousHead && previousHead !== ctx.pr.headSha ? { supersededSha: previousHead } : {}),
      });
      await this.upsert(octokit, ctx, body);
      await this.deps.redis.set(keys.inProgressHead, ctx.pr.headSha, 'EX', KEY_TTL_SECONDS);
    });
  }

  /** Create the evaluation's check run (in progress, showing `output` if given) and store its id. */
  private async openCheckRun(
    octokit: GitHubClient,
    ctx: PublishContext,
    output?: { title: string; summary: string },
  ): Promise<number> {
    const { id } = await createCheckRun(octokit, {
      owner: ctx.pr.owner,
      repo: ctx.pr.repo,
      headSha: ctx.pr.headSha,
      name: CHECK_RUN_NAME,
      externalId: ctx.evaluationId,
      startedAt: this.deps.now(),
      ...(output ? { output } : {}),
    });
    await this.deps.redis.set(this.keys(ctx).checkRun, String(id), 'EX', KEY_TTL_SECONDS);
    return id;
  }

  /**
   * Complete the evaluation's check run, opening it first when `started` never ran (the PR
   * moved on, or a fork push was refused, before either side started).
   */
  private async finishCheckRun(
    octokit: GitHubClient,
    ctx: PublishContext,
    output: CheckRunOutput,
  ): Promise<void> {
    const stored = await this.deps.redis.get(this.keys(ctx).checkRun);
    const checkRunId = stored ? Number(stored) : await this.openCheckRun(octokit, ctx);
    await completeCheckRun(octokit, {
      owner: ctx.pr.owner,
      repo: ctx.pr.repo,
      checkRunId,
      conclusion: output.conclusion,
      output: { title: output.title, summary: output.summary, text: output.text },
      completedAt: this.deps.now(),
    });
  }

  /**
   * Publish the finished report, built under the lock from the comment's earlier history.
   * Returns what happened: `published`, or `superseded`/`cancelled` when the PR moved on.
   */
  async published(
    ctx: PublishContext,
    build: (previousRuns: HistoryEntry[]) => Report,
  ): Promise<'published' | 'superseded' | 'cancelled'> {
    const keys = this.keys(ctx);
    return withRedisMutex(this.deps.redis, keys.lock, async () => {
      const { current, wanted } = await this.isCurrent(ctx);
      const octokit = this.octokit(ctx);
      if (!current) return this.stoppedLocked(octokit, ctx, wanted);
      const report = build(await this.previousRuns(octokit, ctx));
      await this.upsert(octokit, ctx, report.markdown);
      await this.finishCheckRun(octokit, ctx, report.checkRun);
      await this.clearInProgress(ctx);
      ctx.log.info({ conclusion: report.checkRun.conclusion }, 'published: %s', report.summaryLine);
      return 'published';
    });
  }

  /** Show a message instead of a report (e.g. fork commits not run), and finish the check run with `checkRun`. */
  async notice(
    ctx: PublishContext,
    render: (previousRuns: HistoryEntry[]) => string,
    checkRun: CheckRunOutput,
  ): Promise<void> {
    const keys = this.keys(ctx);
    await withRedisMutex(this.deps.redis, keys.lock, async () => {
      if (!(await this.isCurrent(ctx)).current) return;
      const octokit = this.octokit(ctx);
      await this.upsert(octokit, ctx, render(await this.previousRuns(octokit, ctx)));
      await this.finishCheckRun(octokit, ctx, checkRun);
      await this.clearInProgress(ctx);
    });
  }

  /** The PR moved on (new head, closed, unlabeled): finish this evaluation's check run accordingly. */
  async stopped(ctx: PublishContext): Promise<'superseded' | 'cancelled'> {
    const keys = this.keys(ctx);
    return withRedisMutex(this.deps.redis, keys.lock, async () => {
      const { wanted } = await this.isCurrent(ctx);
      return this.stoppedLocked(this.octokit(ctx), ctx, wanted);
    });
  }

  private async stoppedLocked(
    octokit: GitHubClient,
    ctx: PublishContext,
    wanted: string | null,
  ): Promise<'superseded' | 'cancelled'> {
    if (wanted && wanted !== 'cancelled' && wanted !== ctx.pr.headSha) {
      await this.finishCheckRun(
        octokit,
        ctx,
        renderSuperseded({ headSha: ctx.pr.headSha, newHeadSha: wanted }),
      );
      ctx.log.info({ newHeadSha: wanted }, 'superseded by a newer head; comment left to the newer run');
      return 'superseded';
    }
    const reason = await this.cancelReason(ctx);
    // The comment first: whoever sees the check run finished finds the comment already updated.
    if ((await this.deps.redis.get(this.keys(ctx).inProgressHead)) === ctx.pr.headSha) {
      const body = renderCancelledComment({
        pr: ctx.pr,
        headSha: ctx.pr.headSha,
        reason,
        previousRuns: await this.previousRuns(octokit, ctx),
      });
      await this.upsert(octokit, ctx, body);
      await this.clearInProgress(ctx);
    }
    await this.finishCheckRun(octokit, ctx, renderCancelled({ headSha: ctx.pr.headSha, reason }));
    ctx.log.info({ reason }, 'evaluation cancelled');
    return 'cancelled';
  }

  private async cancelReason(ctx: PublishContext): Promise<CancelReason> {
    const reason = await this.deps.redis.get(this.keys(ctx).cancelReason);
    return reason === 'unlabeled' ? 'unlabeled' : 'closed';
  }

  private async clearInProgress(ctx: PublishContext): Promise<void> {
    const key = this.keys(ctx).inProgressHead;
    if ((await this.deps.redis.get(key)) === ctx.pr.headSha) await this.deps.redis.del(key);
  }
}
