import {
  classifyGitHubError,
  type GitHubApp,
  type GitHubClient,
  listReportComments,
  type ReportComment,
} from '@evalbot/github';
import { type HistoryEntry, parseReportHistory } from '@evalbot/report';
import type { PublishContext, Refusal } from './publish-output.ts';

/**
 * One turn of publishing under the per-PR lock: what the outputs share, each read at most once
 * (the PR's report comments are listed on first use, and kept as the comment output writes
 * them). `refusals` grows as outputs are refused, so an output that runs after a refused one
 * (or runs again, see `ReportPublisher`) tells the author what went missing.
 */
export class PublishTurn {
  readonly refusals: Refusal[] = [];
  readonly octokit: GitHubClient;
  private listing: Promise<ReportComment[]> | undefined;

  constructor(
    readonly ctx: PublishContext,
    readonly now: Date,
    private readonly github: GitHubApp,
  ) {
    this.octokit = github.installationOctokit(ctx.pr.installationId, ctx.log);
  }

  botLogin(): Promise<string> {
    return this.github.botLogin();
  }

  /** The PR's report comments by the App, oldest first (read once). */
  reportComments(): Promise<ReportComment[]> {
    this.listing ??= this.botLogin().then((botLogin) =>
      listReportComments(this.octokit, {
        owner: this.ctx.pr.owner,
        repo: this.ctx.pr.repo,
        issueNumber: this.ctx.pr.number,
        botLogin,
      }),
    );
    return this.listing;
  }

  /** After a write: the comment as it now is (duplicates were deleted). */
  rememberComment(comment: ReportComment): void {
    this.listing = Promise.resolve([comment]);
  }

  /**
   * The earlier runs embedded in the PR's comment. None when GitHub refuses to list the
   * comments for good: the comment output then meets the same refusal and reports it.
   */
  async previousRuns(): Promise<HistoryEntry[]> {
    try {
      const [ours] = await this.reportComments();
      return parseReportHistory(ours?.body);
    } catch (error) {
      if (classifyGitHubError(error).retryable || classifyGitHubError(error).status === undefined)
        throw error;
      return [];
    }
  }
}
