import { z } from 'zod';
import { triggerSchema } from './triggers.ts';

const sha = z.string().regex(/^[0-9a-f]{40}$/, 'must be a 40-character commit SHA');

/**
 * The pull request an evaluation is for, as the webhook described it. Never holds a secret:
 * the worker asks `@evalbot/github` for an installation token when it needs one.
 */
export const pullRequestRefSchema = z.object({
  installationId: z.number().int().positive(),
  owner: z.string().min(1),
  repo: z.string().min(1),
  number: z.number().int().positive(),
  /** The base repository's web URL (`html_url`), e.g. https://github.com/o/r. */
  repoHtmlUrl: z.url(),
  /** The base repository's clone URL; fork heads are fetched from here as refs/pull/N/head. */
  cloneUrl: z.url(),
  headSha: sha,
  baseSha: sha,
  headRef: z.string(),
  baseRef: z.string(),
  /** True when the head lives in another repository (a fork). */
  fromFork: z.boolean(),
  /** The PR author's login. */
  author: z.string(),
  /**
   * `pull_request.updated_at` of the event (or API read) this ref came from. GitHub does not
   * deliver webhooks in order: a ref older than the PR state already recorded is stale and
   * is not enqueued. Absent: always accepted.
   */
  updatedAt: z.iso.datetime({ offset: true }).optional(),
});
export type PullRequestRef = z.infer<typeof pullRequestRefSchema>;

/** A PR as a comment webhook knows it: no head or base yet (the worker reads them from the API). */
export const pullRequestTargetSchema = pullRequestRefSchema.pick({
  installationId: true,
  owner: true,
  repo: true,
  number: true,
  repoHtmlUrl: true,
  cloneUrl: true,
});
export type PullRequestTarget = z.infer<typeof pullRequestTargetSchema>;

export const requestSchema = z.object({
  trigger: triggerSchema,
  /** `X-GitHub-Delivery` of the webhook that asked for this evaluation. */
  deliveryId: z.string().min(1),
  /** Who asked: the labeler, pusher or commenter. */
  sender: z.string(),
  /** For `/evaluate`: the comment to react to and reply under. The worker checks the sender's permission. */
  commentId: z.number().int().positive().optional(),
  requestedAt: z.iso.datetime(),
});
export type EvaluationRequest = z.infer<typeof requestSchema>;

/** Child job: evaluate one side of the PR. */
/** A worker pool's name, as `.evalbot.yml`'s `resources.pool` allows it (repo-config's POOL_NAME). */
export const POOL_NAME = /^[a-z0-9][a-z0-9-]{0,31}$/;

export const evaluateJobSchema = z.object({
  pr: pullRequestRefSchema,
  request: requestSchema,
  side: z.enum(['head', 'base']),
  sha,
  /**
   * What to fetch from `pr.cloneUrl` to get `sha`: the SHA itself where the server allows it,
   * else `refs/pull/N/head` (forks) or the branch.
   */
  fetchRefs: z.array(z.string().min(1)).min(1),
  /**
   * Set by the worker on a side the base branch's `.evalbot.yml` sends to a worker pool
   * (`resources`): on the job in the default queue once it has read the base (`waitingSince`:
   * when it first looked for a worker of the pool), and on the job it hands to the pool's queue.
   * Never set at enqueue time, so a PR cannot pick its pool.
   */
  pool: z
    .object({
      name: z.string().regex(POOL_NAME),
      /** Each training gets one GPU of the worker (CUDA_VISIBLE_DEVICES). */
      gpu: z.boolean(),
      waitingSince: z.number().int().nonnegative().optional(),
    })
    .optional(),
});
export type EvaluateJob = z.infer<typeof evaluateJobSchema>;

/** Flow parent: compare both sides and publish. */
export const compareJobSchema = z.object({
  pr: pullRequestRefSchema,
  request: requestSchema,
  /** (repo, PR, head sha, base sha): at most one such evaluation is queued or running. */
  evaluationKey: z.string().min(1),
});
export type CompareJob = z.infer<typeof compareJobSchema>;

/**
 * Job in `evalbot-command`: `/evaluate` was commented on a PR. The worker checks that
 * `request.sender` may write to the repo, reads the PR (head/base SHA and ref, fork, author,
 * `updated_at`) and calls `enqueueEvaluation` with trigger `comment`; a finished evaluation of
 * the same head and base is run again, a queued or running one is not duplicated.
 */
export const evaluateCommandJobSchema = z.object({
  pr: pullRequestTargetSchema,
  request: requestSchema.extend({
    trigger: z.literal('comment'),
    commentId: z.number().int().positive(),
  }),
});
export type EvaluateCommandJob = z.infer<typeof evaluateCommandJobSchema>;

/** `owner/repo#N@head..base`, the deduplication key of one evaluation. */
export function evaluationKeyOf(
  pr: Pick<PullRequestRef, 'owner' | 'repo' | 'number' | 'headSha' | 'baseSha'>,
) {
  return `${pr.owner}/${pr.repo}#${pr.number}@${pr.headSha}..${pr.baseSha}`.toLowerCase();
}

/** `owner/repo#N`, the key of per-PR state (latest head, cancellation). */
export function pullRequestKeyOf(pr: Pick<PullRequestRef, 'owner' | 'repo' | 'number'>) {
  return `${pr.owner}/${pr.repo}#${pr.number}`.toLowerCase();
}
