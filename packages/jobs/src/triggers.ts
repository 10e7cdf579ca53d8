import { z } from 'zod';

/**
 * The `pull_request` actions that ask for an evaluation (with the evaluate label on the PR).
 * The one list the gateway's routing, the payload schema ({@link triggerSchema}) and the fork
 * guard ({@link VOUCHED_BY_MAINTAINER}) derive from: a trigger added here is routed, accepted in
 * a job and decided on by the fork guard, or the code does not compile.
 */
export const PULL_REQUEST_TRIGGERS = ['labeled', 'synchronize', 'reopened'] as const;
export type PullRequestTrigger = (typeof PULL_REQUEST_TRIGGERS)[number];

/** The `pull_request` actions that cancel a PR's pending and running work. */
export const PULL_REQUEST_CANCELS = ['closed', 'unlabeled'] as const;
export type PullRequestCancel = (typeof PULL_REQUEST_CANCELS)[number];

/** Why an evaluation was asked for: a `pull_request` trigger, or an `/evaluate` comment. */
export const TRIGGERS = [...PULL_REQUEST_TRIGGERS, 'comment'] as const;
export type Trigger = (typeof TRIGGERS)[number];
export const triggerSchema = z.enum(TRIGGERS);

/**
 * Whether a maintainer vouched for the commit a trigger names: a label added by someone who can
 * add labels, an `/evaluate` whose commenter the worker checks for write access. A push
 * (`synchronize`) or a reopen is not vouched for, so the fork guard asks whether a fork PR's
 * author may write to the repository before such a commit runs. Keyed by every trigger, so a
 * new one does not compile until it says.
 */
export const VOUCHED_BY_MAINTAINER: Readonly<Record<Trigger, boolean>> = {
  labeled: true,
  synchronize: false,
  reopened: false,
  comment: true,
};

/** Whether a `pull_request` action asks for an evaluation. */
export function isPullRequestTrigger(action: string): action is PullRequestTrigger {
  return (PULL_REQUEST_TRIGGERS as readonly string[]).includes(action);
}

/** Whether a `pull_request` action cancels a PR's work. */
export function isPullRequestCancel(action: string): action is PullRequestCancel {
  return (PULL_REQUEST_CANCELS as readonly string[]).includes(action);
}
