import { type GitHubApp, getPermission } from '@evalbot/github';
import { type EvaluationRequest, type PullRequestRef, redisKeys, VOUCHED_BY_MAINTAINER } from '@evalbot/jobs';
import type { Logger } from '@evalbot/logger';
import type { Redis } from 'ioredis';

const DECISION_TTL_SECONDS = 24 * 3600;

/**
 * Whether new commits of this PR may run. A maintainer's label or `/evaluate` vouches for the
 * commit it names; a later push to a fork by an author without write access does not: such
 * code is not run until a maintainer adds the label again. The decision is taken once per
 * evaluation and shared by its jobs through Redis.
 */
export async function mayRunHead(
  deps: { github: GitHubApp; redis: Redis; prefix: string; log: Logger },
  opts: { pr: PullRequestRef; request: EvaluationRequest; evaluationKey: string },
): Promise<boolean> {
  const { pr, request } = opts;
  if (!pr.fromFork || VOUCHED_BY_MAINTAINER[request.trigger]) return true;
  const key = redisKeys.forkGuard(deps.prefix, opts.evaluationKey);
  const cached = await deps.redis.get(key);
  if (cached) return cached === 'allowed';
  const octokit = deps.github.installationOctokit(pr.installationId, deps.log, {
    repositories: [pr.repo],
    permissions: { metadata: 'read' },
  });
  const permission = await getPermission(octokit, { owner: pr.owner, repo: pr.repo, username: pr.author });
  const decision = permission.canWrite ? 'allowed' : 'refused';
  await deps.redis.set(key, decision, 'EX', DECISION_TTL_SECONDS);
  deps.log.info({ author: pr.author, permission: permission.permission, decision }, 'fork push checked');
  return decision === 'allowed';
}
