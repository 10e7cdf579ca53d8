import { type GitHubApp, permanentGitHubError } from '@evalbot/github';
import { type BuildReportInput, buildReport } from '@evalbot/report';
import type { Notice, PublishContext, PublishOutput } from './publish-output.ts';
import { PublishRefusedError } from './publish-refused-error.ts';
import { PublishTurn } from './publish-turn.ts';
import type { GateState, PullRequestGate } from './pull-request-gate.ts';

/** What the compare job knows of a finished evaluation; the history comes from the PR's comment. */
export type ReportInput = Omit<BuildReportInput, 'previousRuns'>;

/**
 * Shows an evaluation on its PR through every output (the comment, the check run), each change
 * under the PR's gate, so a late or retried job never overwrites a newer result and the PR ends
 * with exactly one, current comment.
 *
 * GitHub's answers decide what happens next: 5xx, network errors and rate limits are thrown as
 * they are (the job is retried, or waits for the limit). An output refused for good (401, 403
 * without a rate limit, 404, 422) does not stop the others: they are written, and those written
 * before the refusal are written again, telling the author what was refused and how to fix it;
 * then the job fails at once with a {@link PublishRefusedError}.
 */
export class ReportPublisher {
  constructor(
    private readonly deps: {
      github: GitHubApp;
      gate: PullRequestGate;
      outputs: readonly PublishOutput[];
      now: () => Date;
    },
  ) {}

  /** True while `ctx`'s head is the one the PR wants (not superseded, not cancelled). */
  isCurrent(ctx: PublishContext): Promise<GateState> {
    return this.deps.gate.state(ctx.pr);
  }

  /**
   * Once per evaluation (either side may call it first): ⏳ comment and in-progress check run.
   * An output refused for good does not stop the evaluation while another can show its result.
   */
  async started(ctx: PublishContext): Promise<void> {
    const { gate } = this.deps;
    await gate.withTurn(ctx, async ({ current }) => {
      if (!current || (await gate.hasStarted(ctx))) return;
      const previousHead = await gate.inProgressHead(ctx);
      const supersededSha = previousHead && previousHead !== ctx.pr.headSha ? previousHead : undefined;
      const turn = this.turn(ctx);
      await this.run(turn, (o) => o.pending(turn, supersededSha ? { supersededSha } : {}), {
        failUnless: 'all-refused',
      });
      await gate.markStarted(ctx);
    });
  }

  /**
   * Publish the finished report, with the history of the PR's comment. Returns what happened:
   * `published`, or `superseded`/`cancelled` when the PR moved on.
   */
  async published(
    ctx: PublishContext,
    input: ReportInput,
  ): Promise<'published' | 'superseded' | 'cancelled'> {
    return this.deps.gate.withTurn(ctx, async (state) => {
      const turn = this.turn(ctx);
      if (!state.current) return this.stoppedLocked(turn, state);
      const report = buildReport({ ...input, previousRuns: await turn.previousRuns() });
      await this.run(turn, (o) => o.final(turn, report));
      await this.deps.gate.clearInProgress(ctx);
      ctx.log.info({ conclusion: report.checkRun.conclusion }, 'published: %s', report.summaryLine);
      return 'published';
    });
  }

  /** Show a notice instead of a report (e.g. fork commits not run), finishing the evaluation. */
  async notice(ctx: PublishContext, notice: Notice): Promise<void> {
    await this.deps.gate.withTurn(ctx, async ({ current }) => {
      if (!current) return;
      const turn = this.turn(ctx);
      await this.run(turn, (o) => o.notice(turn, notice));
      await this.deps.gate.clearInProgress(ctx);
    });
  }

  /** The PR moved on (new head, closed, unlabeled): finish this evaluation accordingly. */
  async stopped(ctx: PublishContext): Promise<'superseded' | 'cancelled'> {
    return this.deps.gate.withTurn(ctx, (state) => this.stoppedLocked(this.turn(ctx), state));
  }

  private turn(ctx: PublishContext): PublishTurn {
    return new PublishTurn(ctx, this.deps.now(), this.deps.github);
  }

  private async stoppedLocked(turn: PublishTurn, { wanted }: GateState): Promise<'superseded' | 'cancelled'> {
    const { ctx } = turn;
    if (wanted && wanted !== 'cancelled' && wanted !== ctx.pr.headSha) {
      await this.run(turn, (o) => o.superseded(turn, { newHeadSha: wanted }));
      ctx.log.info({ newHeadSha: wanted }, 'superseded by a newer head; comment left to the newer run');
      return 'superseded';
    }
    const reason = await this.deps.gate.cancelReason(ctx);
    const shownAsEvaluating = (await this.deps.gate.inProgressHead(ctx)) === ctx.pr.headSha;
    await this.run(turn, (o) => o.cancelled(turn, { reason, shownAsEvaluating }));
    if (shownAsEvaluating) await this.deps.gate.clearInProgress(ctx);
    ctx.log.info({ reason }, 'evaluation cancelled');
    return 'cancelled';
  }

  /**
   * Write one moment of the evaluation to every output, in order. A refusal for good is
   * remembered in the turn and the rest go on; outputs written before it are written again so
   * they tell the author. Throws {@link PublishRefusedError} when anything was refused, or with
   * `failUnless: 'all-refused'` only when nothing could be shown.
   */
  private async run(
    turn: PublishTurn,
    write: (output: PublishOutput) => Promise<void>,
    opts: { failUnless?: 'any-refused' | 'all-refused' } = {},
  ): Promise<void> {
    const { outputs } = this.deps;
    const written: PublishOutput[] = [];
    for (const output of outputs) {
      if (await this.tryWrite(turn, output, write)) written.push(output);
    }
    if (turn.refusals.length === 0) return;
    const lastRefused = Math.max(
      ...turn.refusals.map((r) => outputs.findIndex((o) => o.channel === r.channel)),
    );
    for (const output of written.filter((o) => outputs.indexOf(o) < lastRefused)) {
      if (!(await this.tryWrite(turn, output, write))) written.splice(written.indexOf(output), 1);
    }
    const told = written.map((o) => o.channel);
    if ((opts.failUnless ?? 'any-refused') === 'all-refused' && told.length > 0) return;
    throw new PublishRefusedError(turn.refusals, told);
  }

  /** False when GitHub refused `output` for good; other errors are thrown. */
  private async tryWrite(
    turn: PublishTurn,
    output: PublishOutput,
    write: (output: PublishOutput) => Promise<void>,
  ): Promise<boolean> {
    try {
      await write(output);
      return true;
    } catch (error) {
      const info = permanentGitHubError(error);
      if (!info) throw error;
      turn.refusals.push({ channel: output.channel, permission: output.permission, error: info });
      turn.ctx.log.warn(
        { channel: output.channel, status: info.status, requestId: info.requestId, err: error },
        'GitHub refused the %s for good',
        output.channel,
      );
      return false;
    }
  }
}
