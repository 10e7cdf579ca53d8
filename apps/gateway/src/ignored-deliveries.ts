import {
  isPullRequestCancel,
  isPullRequestTrigger,
  type PullRequestCancel,
  type PullRequestTrigger,
} from '@evalbot/jobs';
import type { DeliveryAnswer } from './webhook-route.ts';

/** The events `routeDelivery` may act on; every other event is answered from its header alone. */
const ROUTED_EVENTS: ReadonlySet<string> = new Set(['ping', 'pull_request', 'issue_comment']);

/**
 * Every reason a verified delivery is answered without recording anything, whether it is found
 * from the `X-GitHub-Event` header, the payload's leading `"action"` or the whole payload.
 */
export const IGNORED = {
  event: (event: string) => `the "${event}" event does not start or cancel evaluations`,
  pullRequestAction: (action: string) => `pull_request.${action} neither starts nor cancels an evaluation`,
  commentAction: (action: string) => `issue_comment.${action} is not a new comment`,
  otherLabelAdded: (name: string, label: string) => `label "${name}" is not the evaluate label "${label}"`,
  otherLabelRemoved: (name: string, label: string) => `removed label "${name}" is not "${label}"`,
  labelMissing: (label: string) => `the "${label}" label is not on the pull request`,
  notOpen: (state: string) => `the pull request is ${state}`,
  noInstallation: 'the payload names no installation and INSTALL_ID is not set',
  cloneUrlNotUrl: (cloneUrl: string) => `repository.clone_url "${cloneUrl}" is not a URL`,
  cloneUrlElsewhere: (cloneUrl: string, githubUrl: string) =>
    `repository.clone_url ${cloneUrl} is not on GITHUB_URL ${githubUrl}; set GITHUB_URL to this GitHub's address`,
  commentOnIssue: 'the comment is on an issue, not a pull request',
  notCommand: 'the comment does not start with /evaluate',
  botComment: 'comments by bots are not commands',
} as const;

/** The 202 answer to an ignored delivery; `ignored` is also its outcome in the log line and metric. */
export function ignoredAnswer(reason: string): DeliveryAnswer {
  return { statusCode: 202, outcome: 'ignored', body: { status: 'ignored', reason } };
}

/** The `pull_request` actions routed: the triggers and the cancellations of `@evalbot/jobs`. */
export function pullRequestActionOf(action: string): PullRequestTrigger | PullRequestCancel | undefined {
  return isPullRequestTrigger(action) || isPullRequestCancel(action) ? action : undefined;
}

// GitHub writes `action` first in every payload that has one.
const LEADING_ACTION = /^\s*\{\s*"action"\s*:\s*"([a-z_]{1,40})"/;

/**
 * The reason a verified delivery is ignored, read from its event header and the payload's
 * leading `"action"` alone (most of what an App is sent starts nothing), so its body need not be
 * parsed; undefined when the whole payload must be read.
 */
export function ignoredBeforeParsing(event: string, body: Buffer): string | undefined {
  if (!ROUTED_EVENTS.has(event)) return IGNORED.event(event);
  if (event !== 'pull_request' && event !== 'issue_comment') return undefined;
  const action = LEADING_ACTION.exec(body.subarray(0, 128).toString('latin1'))?.[1];
  if (action === undefined) return undefined;
  if (event === 'pull_request' && pullRequestActionOf(action) === undefined) {
    return IGNORED.pullRequestAction(action);
  }
  if (event === 'issue_comment' && action !== 'created') return IGNORED.commentAction(action);
  return undefined;
}
