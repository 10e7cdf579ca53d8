import {
  addReaction,
  type GitHubApp,
  getPermission,
  getPullRequest,
  replyToPullRequest,
} from '@evalbot/github';
import { enqueueEvaluation, type JobProducer, jobCatalog } from '@evalbot/jobs';
import type { Logger } from '@evalbot/logger';
import type { JobContext } from './job-context.ts';

export interface EvaluateCommandDeps {
  github: GitHubApp;
  producer: JobProducer;
  logger: Logger;
}

export type CommandResult =
  | { status: 'refused'; reason: string }
  | { status: 'queued' | 'duplicate' | 'stale'; evaluationKey: string };

/**
 * The command queue's processor: an `/evaluate` comment. Only users with write access may run
 * PR code this way; others get a reply saying so. Accepted requests get a 👀 reaction and the
 * PR's current head and base are read from GitHub and enqueued like a labeled PR.
 */
export async function evaluateCommand(
  raw: unknown,
  job: JobContext,
  deps: EvaluateCommandDeps,
): Promise<CommandResult> {
  const { pr: target, request } = jobCatalog.command.parse(raw);
  const log = deps.logger.child({ deliveryId: request.deliveryId, jobId: job.id });
  // The commenter's permission, the 👀 reaction or the reply, the PR's head: this repository only.
  const octokit = deps.github.installationOctokit(target.installationId, log, {
    repositories: [target.repo],
    permissions: { metadata: 'read', issues: 'write', pull_requests: 'read' },
  });
  const where = { owner: target.owner, repo: target.repo };

  const permission = await getPermission(octokit, { ...where, username: request.sender });
  if (!permission.canWrite) {
    await replyToPullRequest(octokit, {
      ...where,
      issueNumber: target.number,
      body: `@${request.sender} \`/evaluate\` runs this pull request's code, so it needs write access to ${target.owner}/${target.repo} (you have \`${permission.roleName}\`). Ask a maintainer to comment \`/evaluate\` or add the evaluate label.`,
    });
    await job.log(`refused: ${request.sender} has ${permission.permission} access`);
    return { status: 'refused', reason: `${request.sender} cannot write to the repository` };
  }
  await addReaction(octokit, { ...where, commentId: request.commentId, content: 'eyes' });

  const info = await getPullRequest(octokit, { ...where, pullNumber: target.number });
  if (info.state !== 'open') {
    await replyToPullRequest(octokit, {
      ...where,
      issueNumber: target.number,
      body: `@${request.sender} this pull request is ${info.merged ? 'merged' : 'closed'}; evalbot evaluates open pull requests only. Reopen it to evaluate it.`,
    });
    return { status: 'refused', reason: 'pull request not open' };
  }
  const result = await enqueueEvaluation(deps.producer, {
    pr: {
      ...target,
      headSha: info.head.sha,
      baseSha: info.base.sha,
      headRef: info.head.ref,
      baseRef: info.base.ref,
      fromFork: info.fromFork,
      author: info.author,
      // Recorded with the head, so that an older `closed`/`unlabeled` delivered late cannot cancel it.
      updatedAt: info.updatedAt,
    },
    request,
  });
  await job.log(`${result.status}: ${result.evaluationKey}`);
  log.info({ status: result.status, evaluationKey: result.evaluationKey }, '/evaluate handled');
  return { status: result.status, evaluationKey: result.evaluationKey };
}
