import {
  type GitHubApp,
  type GitHubClient,
  listReportComments,
  permanentGitHubError,
  type ReportComment,
  type TokenScope,
} from '@evalbot/github';
import { type HistoryEntry, parseReportHistory } from '@evalbot/report';
import type { PublishContext, Refusal } from './publish-output.ts';

/** What reading and writing the PR's comment needs. */
export const COMMENT_PERMISSIONS: TokenScope['permissions'] = { issues: 'write' };

/**
 * One turn of publishing under the per-PR lock: what the outputs share, each read at most once
 * (the PR's report comments are listed on first use, and kept as the comment output writes
 * them). `refusals` grows as outputs are refused, so an output that runs after a refused one
 * (or runs again, see `ReportPublisher`) tells the author what went missing.
 */
export class PublishTurn {
  readonly refusals: Refusal[] = [];
  private listing: Promise<ReportComment[]> | undefined;
  private readonly clients = new Map<string, GitHubClient>();

  constructor(
    readonly ctx: PublishContext,
    readonly now: Date,
    private readonly github: GitHubApp,
  ) {}

  /**
   * A client whose token covers only the PR's repository and `permissions`: an output writes
   * with what it needs, and an installation that lacks one output's permission still lets the
   * others write.
   */
  octokit(permissions: TokenScope['permissions']): GitHubClient {
    const key = JSON.stringify(Object.entries(permissions).sort());
    let client = this.clients.get(key);
    if (!client) {
      const scope = { repositories: [this.ctx.pr.repo], permissions };
      client = this.github.installationOctokit(this.ctx.pr.installationId, this.ctx.log, scope);
      this.clients.set(key, client);
    }
    return client;
  }

  botLogin(): Promise<string> {
    return this.github.botLogin();
  }

  /** The PR's report comments by the App, oldest first (read once). */
  reportComments(): Promise<ReportComment[]> {
    this.listing ??= this.botLogin().then((botLogin) =>
      listReportComments(this.octokit(COMMENT_PERMISSIONS), {
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
      if (!permanentGitHubError(error)) throw error;
      return [];
    }
  }
}
