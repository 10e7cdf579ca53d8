import type { GitHubApp } from '@evalbot/github';
import { removeLabel } from '@evalbot/github';
import { jobCatalog, type SideOutcome, sideOutcomeSchema } from '@evalbot/jobs';
import type { Logger } from '@evalbot/logger';
import { baseConfigOf, configErrorsOf } from '@evalbot/report';
import type { Redis } from 'ioredis';
import { mayRunHead } from '../fork-guard.ts';
import type { ReportPublisher } from '../publishing/index.ts';
import { COMMENT_PERMISSIONS } from '../publishing/publish-turn.ts';
import { sideNotEvaluated } from '../side-not-evaluated.ts';
import type { JobContext } from './job-context.ts';

export interface CompareJobContext extends JobContext {
  /** Return values of the finished children, keyed by their Redis job key. */
  childrenValues(): Promise<Record<string, unknown>>;
  /** Failure reasons of children that failed for good, keyed by their Redis job key. */
  ignoredChildrenFailures(): Promise<Record<string, string>>;
}

export interface CompareDeps {
  redis: Redis;
  prefix: string;
  evaluateLabel: string;
  github: GitHubApp;
  publisher: ReportPublisher;
  logger: Logger;
  now: () => Date;
  /** Values never to show (the worker's own secrets), on top of token-shaped strings. */
  secrets: string[];
}

export type CompareResult = 'published' | 'superseded' | 'cancelled' | 'fork-refused';

function infrastructureFailure(sha: string, reason: string): SideOutcome {
  return sideNotEvaluated(
    sha,
    `evalbot could not evaluate this commit after several attempts (${reason}). This is not a problem of the PR: comment \`/evaluate\` to try again.`,
  );
}

/** Side outcome from a child's return value or its final failure. */
function sideOf(
  side: 'head' | 'base',
  parentId: string,
  sha: string,
  values: Record<string, unknown>,
  failures: Record<string, string>,
): SideOutcome {
  const suffix = `:${parentId}-${side}`;
  const valueKey = Object.keys(values).find((k) => k.endsWith(suffix));
  if (valueKey) {
    const parsed = sideOutcomeSchema.safeParse(values[valueKey]);
    if (parsed.success) return parsed.data;
    return infrastructureFailure(
      sha,
      `its result could not be read: ${parsed.error.issues[0]?.message ?? ''}`,
    );
  }
  const failureKey = Object.keys(failures).find((k) => k.endsWith(suffix));
  return infrastructureFailure(sha, failureKey ? (failures[failureKey] ?? 'unknown error') : 'no result');
}

/**
 * The compare queue's processor: once both sides are done, build the report and publish it —
 * unless the PR moved on (superseded, closed, unlabeled) or a fork push was not allowed to run.
 */
export async function compareAndPublish(
  raw: unknown,
  job: CompareJobContext,
  deps: CompareDeps,
): Promise<CompareResult> {
  const data = jobCatalog.compare.parse(raw);
  const { pr, request } = data;
  const log = deps.logger.child({ deliveryId: request.deliveryId, jobId: job.id, pr: data.evaluationKey });
  const ctx = { pr, request, evaluationId: job.id, log };

  const { current } = await deps.publisher.isCurrent(ctx);
  if (!current) return deps.publisher.stopped(ctx);

  const guard = { github: deps.github, redis: deps.redis, prefix: deps.prefix, log };
  if (!(await mayRunHead(guard, { pr, request, evaluationKey: data.evaluationKey }))) {
    // The label goes with the comment's permission and token.
    const octokit = deps.github.installationOctokit(pr.installationId, log, {
      repositories: [pr.repo],
      permissions: COMMENT_PERMISSIONS,
    });
    await removeLabel(octokit, {
      owner: pr.owner,
      repo: pr.repo,
      issueNumber: pr.number,
      name: deps.evaluateLabel,
    });
    await deps.publisher.notice(ctx, { kind: 'fork-refused', author: pr.author, label: deps.evaluateLabel });
    await job.log(`fork push by ${pr.author} not run; label "${deps.evaluateLabel}" removed`);
    return 'fork-refused';
  }

  const [values, failures] = await Promise.all([job.childrenValues(), job.ignoredChildrenFailures()]);
  const head = sideOf('head', job.id, pr.headSha, values, failures);
  const base = sideOf('base', job.id, pr.baseSha, values, failures);
  await job.log(
    `head: ${head.ok ? 'ok' : `failed at ${head.stage}`}; base: ${base.ok ? 'ok' : `failed at ${base.stage}`}`,
  );
  const result = await deps.publisher.published(ctx, {
    pr,
    head,
    base,
    baseConfig: baseConfigOf(base),
    configErrors: configErrorsOf(head, base),
    now: deps.now(),
    secrets: deps.secrets,
  });
  await job.updateProgress({ stage: 'published', percent: 100 });
  return result;
}
