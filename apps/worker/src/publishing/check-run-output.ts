import { type CheckRunResult, completeCheckRun, createCheckRun, updateCheckRun } from '@evalbot/github';
import { redisKeys } from '@evalbot/jobs';
import {
  type Report,
  renderCancelled,
  renderForkRefusalCheckRun,
  renderPendingCheckRun,
  renderSuperseded,
} from '@evalbot/report';
import type { Redis } from 'ioredis';
import type { CancelledInput, Notice, PublishOutput, SupersededInput } from './publish-output.ts';
import type { PublishTurn } from './publish-turn.ts';
import { KEY_TTL_SECONDS } from './pull-request-gate.ts';
import { refusalNote } from './refusal-note.ts';

export const CHECK_RUN_NAME = 'evalbot';
const CHECK_RUN_PERMISSIONS = { checks: 'write' } as const;

/**
 * The evaluation's check run on the head commit: in progress while evaluating, then completed
 * with the verdict (or neutral, cancelled). Its id is kept in Redis, so whichever job finishes
 * the evaluation completes the run another job opened.
 */
export class CheckRunOutput implements PublishOutput {
  readonly channel = 'check run';
  readonly permission = 'Checks: Read and write';

  constructor(private readonly deps: { redis: Redis; prefix: string }) {}

  async pending(turn: PublishTurn): Promise<void> {
    const { pr } = turn.ctx;
    const rendered = renderPendingCheckRun({ headSha: pr.headSha, baseSha: pr.baseSha, startedAt: turn.now });
    const output = { ...rendered, summary: this.withNote(turn, rendered.summary) };
    // Shown once already (a retried job, or told again of another output's refusal): update it.
    const stored = await this.deps.redis.get(this.key(turn));
    if (!stored) {
      await this.open(turn, output);
      return;
    }
    await updateCheckRun(turn.octokit(CHECK_RUN_PERMISSIONS), {
      owner: pr.owner,
      repo: pr.repo,
      checkRunId: Number(stored),
      output,
    });
  }

  final(turn: PublishTurn, report: Report): Promise<void> {
    return this.complete(turn, report.checkRun);
  }

  notice(turn: PublishTurn, notice: Notice): Promise<void> {
    return this.complete(
      turn,
      renderForkRefusalCheckRun({ headSha: turn.ctx.pr.headSha, label: notice.label }),
    );
  }

  cancelled(turn: PublishTurn, input: CancelledInput): Promise<void> {
    return this.complete(turn, renderCancelled({ headSha: turn.ctx.pr.headSha, reason: input.reason }));
  }

  superseded(turn: PublishTurn, input: SupersededInput): Promise<void> {
    return this.complete(
      turn,
      renderSuperseded({ headSha: turn.ctx.pr.headSha, newHeadSha: input.newHeadSha }),
    );
  }

  private key(turn: PublishTurn): string {
    return redisKeys.evaluationCheckRun(this.deps.prefix, turn.ctx.evaluationId);
  }

  private withNote(turn: PublishTurn, summary: string): string {
    const note = refusalNote(turn.refusals);
    return note ? `${note}\n\n${summary}` : summary;
  }

  /**
   * Create the evaluation's check run — in progress showing `output`, or already `completed` —
   * and store its id (told again of another output's refusal, the same run is then updated
   * rather than doubled).
   */
  private async open(
    turn: PublishTurn,
    output: { title: string; summary: string; text?: string },
    completed?: { conclusion: CheckRunResult['conclusion']; completedAt: Date },
  ): Promise<number> {
    const { pr, evaluationId } = turn.ctx;
    const { id } = await createCheckRun(turn.octokit(CHECK_RUN_PERMISSIONS), {
      owner: pr.owner,
      repo: pr.repo,
      headSha: pr.headSha,
      name: CHECK_RUN_NAME,
      externalId: evaluationId,
      startedAt: turn.now,
      output,
      ...(completed ? { completed } : {}),
    });
    await this.deps.redis.set(this.key(turn), String(id), 'EX', KEY_TTL_SECONDS);
    return id;
  }

  /**
   * Complete the evaluation's check run, or create it completed when it was never opened (both
   * sides' results reused, the PR moved on or a fork push refused before either side started):
   * one write, not an open and a completion paced a second apart.
   */
  private async complete(turn: PublishTurn, result: CheckRunResult): Promise<void> {
    const { pr } = turn.ctx;
    const output = { title: result.title, summary: this.withNote(turn, result.summary), text: result.text };
    const stored = await this.deps.redis.get(this.key(turn));
    if (!stored) {
      await this.open(turn, output, { conclusion: result.conclusion, completedAt: turn.now });
      return;
    }
    await completeCheckRun(turn.octokit(CHECK_RUN_PERMISSIONS), {
      owner: pr.owner,
      repo: pr.repo,
      checkRunId: Number(stored),
      conclusion: result.conclusion,
      output,
      completedAt: turn.now,
    });
  }
}
