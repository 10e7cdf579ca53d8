import type { GitHubErrorInfo } from '@evalbot/github';
import type { EvaluationRequest, PullRequestRef } from '@evalbot/jobs';
import type { Logger } from '@evalbot/logger';
import type { CancelReason, Report } from '@evalbot/report';
import type { PublishTurn as Turn } from './publish-turn.ts';

/** One evaluation being published: the compare job's id names it. */
export interface PublishContext {
  pr: PullRequestRef;
  request: EvaluationRequest;
  evaluationId: string;
  log: Logger;
}

/** An output GitHub refused for good (401, 403 without a rate limit, 404, 422). */
export interface Refusal {
  /** The output's `channel`, e.g. `comment`. */
  channel: string;
  /** The permission the output needs (`PublishOutput.permission`). */
  permission: string;
  error: GitHubErrorInfo;
}

/** Why this head is shown as evaluating: a newer push stopped `supersededSha`'s evaluation. */
export interface PendingInput {
  supersededSha?: string;
}

/** Something to show instead of a report. */
export type Notice = { kind: 'fork-refused'; author: string; label: string };

export interface CancelledInput {
  reason: CancelReason;
  /** True when the PR's comment shows this head as being evaluated (it must say it stopped). */
  shownAsEvaluating: boolean;
}

export interface SupersededInput {
  newHeadSha: string;
}

/**
 * Somewhere an evaluation's state is shown to the PR's author: the PR comment, the check run.
 * Each method writes that moment of the evaluation; an output that has nothing to show at some
 * moment does nothing. Errors from GitHub are thrown as Octokit raised them; the publisher
 * decides what is retried. Adding an output (a commit status, a chat message) is one file
 * implementing this, plus its place in `startWorker`'s list.
 */
export interface PublishOutput {
  /** Names the output in logs and in what the author is told, e.g. `comment`, `check run`. */
  readonly channel: string;
  /**
   * What the App needs to write this output, as GitHub's App settings name it
   * (e.g. `Checks: Read and write`): named to the author when GitHub refuses it.
   */
  readonly permission: string;
  pending(turn: Turn, input: PendingInput): Promise<void>;
  final(turn: Turn, report: Report): Promise<void>;
  notice(turn: Turn, notice: Notice): Promise<void>;
  cancelled(turn: Turn, input: CancelledInput): Promise<void>;
  superseded(turn: Turn, input: SupersededInput): Promise<void>;
}
