import { upsertPullRequestComment } from '@evalbot/github';
import { type Report, renderCancelledComment, renderForkRefusal, renderPending } from '@evalbot/report';
import type { CancelledInput, Notice, PendingInput, PublishOutput } from './publish-output.ts';
import { COMMENT_PERMISSIONS, type PublishTurn } from './publish-turn.ts';
import { refusalNote } from './refusal-note.ts';

/**
 * The PR's one evalbot comment: ⏳ while evaluating, then the report, a notice or the
 * cancellation — always one comment, edited in place, carrying the PR's history. A superseded
 * evaluation leaves it to the newer one.
 */
export class CommentOutput implements PublishOutput {
  readonly channel = 'comment';
  readonly permission = 'Issues: Read and write';

  async pending(turn: PublishTurn, input: PendingInput): Promise<void> {
    const { pr } = turn.ctx;
    await this.write(
      turn,
      renderPending({
        pr,
        headSha: pr.headSha,
        baseSha: pr.baseSha,
        startedAt: turn.now,
        previousRuns: await turn.previousRuns(),
        ...(input.supersededSha ? { supersededSha: input.supersededSha } : {}),
      }),
    );
  }

  async final(turn: PublishTurn, report: Report): Promise<void> {
    await this.write(turn, report.markdown);
  }

  async notice(turn: PublishTurn, notice: Notice): Promise<void> {
    const { pr } = turn.ctx;
    await this.write(
      turn,
      renderForkRefusal({
        pr,
        headSha: pr.headSha,
        author: notice.author,
        label: notice.label,
        previousRuns: await turn.previousRuns(),
      }),
    );
  }

  async cancelled(turn: PublishTurn, input: CancelledInput): Promise<void> {
    if (!input.shownAsEvaluating) return;
    const { pr } = turn.ctx;
    await this.write(
      turn,
      renderCancelledComment({
        pr,
        headSha: pr.headSha,
        reason: input.reason,
        previousRuns: await turn.previousRuns(),
      }),
    );
  }

  async superseded(): Promise<void> {
    // The newer evaluation owns the comment.
  }

  private async write(turn: PublishTurn, rendered: string): Promise<void> {
    const { pr, log } = turn.ctx;
    const result = await upsertPullRequestComment(turn.octokit(COMMENT_PERMISSIONS), {
      owner: pr.owner,
      repo: pr.repo,
      issueNumber: pr.number,
      body: withNote(rendered, refusalNote(turn.refusals)),
      botLogin: await turn.botLogin(),
      listed: await turn.reportComments(),
    });
    turn.rememberComment({ id: result.id, body: result.body, html_url: result.htmlUrl });
    log.info({ commentId: result.id, action: result.action }, 'PR comment %s', result.action);
  }
}

/** `note` right under the heading line, where it is seen and never cut by GitHub's size limit. */
function withNote(body: string, note: string): string {
  if (!note) return body;
  const lines = body.split('\n');
  const heading = lines.findIndex((l) => l.startsWith('## '));
  const at = heading >= 0 ? heading + 1 : 1;
  return [...lines.slice(0, at), '', note, ...lines.slice(at)].join('\n');
}
