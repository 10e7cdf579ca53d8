import {
  type DeliveryWork,
  type EvaluationRequest,
  jobCatalog,
  pullRequestRefSchema,
  requestSchema,
} from '@evalbot/jobs';
import type { GatewayConfig } from './config.ts';
import { IGNORED, pullRequestActionOf } from './ignored-deliveries.ts';
import {
  describeIssues,
  type IssueCommentPayload,
  issueCommentPayloadSchema,
  type PullRequestPayload,
  pullRequestPayloadSchema,
} from './webhook-payloads.ts';

/** What a verified delivery asks the gateway to do. */
export type Decision =
  | { kind: 'ping' }
  | { kind: 'ignore'; reason: string }
  /** Signed by GitHub but not shaped like the event it names. */
  | { kind: 'invalid'; reason: string }
  /** Worth acting on: recorded in the delivery log, where the router takes it. */
  | { kind: 'record'; action: string; work: DeliveryWork };

const record = (action: string, work: DeliveryWork): Decision => ({ kind: 'record', action, work });
const ignore = (reason: string): Decision => ({ kind: 'ignore', reason });

export interface DeliveryContext {
  event: string;
  deliveryId: string;
  payload: unknown;
  now: Date;
}

type RoutingConfig = Pick<GatewayConfig, 'evaluateLabel' | 'installId' | 'githubUrl'>;

const COMMAND = /^\/evaluate(?:\s|$)/;

const sameLabel = (a: string, b: string) => a.toLowerCase() === b.toLowerCase();

function installationOf(payload: { installation?: { id: number } | null }, config: RoutingConfig) {
  return payload.installation?.id ?? config.installId;
}

function cloneUrlProblem(cloneUrl: string, config: RoutingConfig): string | undefined {
  let origin: string;
  try {
    origin = new URL(cloneUrl).origin;
  } catch {
    return IGNORED.cloneUrlNotUrl(cloneUrl);
  }
  if (origin !== new URL(config.githubUrl).origin) {
    return IGNORED.cloneUrlElsewhere(cloneUrl, config.githubUrl);
  }
  return undefined;
}

function parseUpdatedAt(value: string | null | undefined): string | undefined {
  return value && !Number.isNaN(Date.parse(value)) ? value : undefined;
}

function routePullRequest(ctx: DeliveryContext, config: RoutingConfig): Decision {
  const named =
    typeof (ctx.payload as { action?: unknown }).action === 'string'
      ? (ctx.payload as { action: string }).action
      : '';
  const action = pullRequestActionOf(named);
  if (action === undefined) return ignore(IGNORED.pullRequestAction(named || '(no action)'));
  const parsed = pullRequestPayloadSchema.safeParse(ctx.payload);
  if (!parsed.success)
    return { kind: 'invalid', reason: `not a pull_request payload: ${describeIssues(parsed.error)}` };
  const payload: PullRequestPayload = parsed.data;
  const pr = payload.pull_request;
  const target = { owner: payload.repository.owner.login, repo: payload.repository.name, number: pr.number };
  const updatedAt = parseUpdatedAt(pr.updated_at);
  const label = config.evaluateLabel;
  const isEvaluateLabel = payload.label ? sameLabel(payload.label.name, label) : false;

  if (action === 'closed') return record(action, { kind: 'cancel', pr: target, reason: 'closed', updatedAt });
  if (action === 'unlabeled') {
    if (!isEvaluateLabel) return ignore(IGNORED.otherLabelRemoved(payload.label?.name ?? '', label));
    return record(action, { kind: 'cancel', pr: target, reason: 'unlabeled', updatedAt });
  }
  if (action === 'labeled' && !isEvaluateLabel) {
    return ignore(IGNORED.otherLabelAdded(payload.label?.name ?? '', label));
  }
  if (action !== 'labeled' && !pr.labels.some((l) => sameLabel(l.name, label))) {
    return ignore(IGNORED.labelMissing(label));
  }
  if (pr.state !== 'open') return ignore(IGNORED.notOpen(pr.state));

  const installationId = installationOf(payload, config);
  if (installationId === undefined) return ignore(IGNORED.noInstallation);
  const badCloneUrl = cloneUrlProblem(payload.repository.clone_url, config);
  if (badCloneUrl) return ignore(badCloneUrl);

  const ref = pullRequestRefSchema.safeParse({
    installationId,
    ...target,
    repoHtmlUrl: payload.repository.html_url,
    cloneUrl: payload.repository.clone_url,
    headSha: pr.head.sha,
    baseSha: pr.base.sha,
    headRef: pr.head.ref,
    baseRef: pr.base.ref,
    // A deleted fork has no head repo; refs/pull/N/head still has its commits.
    fromFork: pr.head.repo?.id !== pr.base.repo.id,
    author: pr.user?.login ?? '',
    updatedAt,
  });
  const request = requestSchema.safeParse({
    trigger: action,
    deliveryId: ctx.deliveryId,
    sender: payload.sender.login,
    requestedAt: ctx.now.toISOString(),
  } satisfies EvaluationRequest);
  if (!ref.success)
    return { kind: 'invalid', reason: `not a usable pull request: ${describeIssues(ref.error)}` };
  if (!request.success) return { kind: 'invalid', reason: describeIssues(request.error) };
  return record(action, { kind: 'evaluate', pr: ref.data, request: request.data });
}

function routeIssueComment(ctx: DeliveryContext, config: RoutingConfig): Decision {
  const action = (ctx.payload as { action?: unknown }).action;
  if (action !== 'created') return ignore(IGNORED.commentAction(String(action)));
  const parsed = issueCommentPayloadSchema.safeParse(ctx.payload);
  if (!parsed.success)
    return { kind: 'invalid', reason: `not an issue_comment payload: ${describeIssues(parsed.error)}` };
  const payload: IssueCommentPayload = parsed.data;
  if (!payload.issue.pull_request) return ignore(IGNORED.commentOnIssue);
  if (!COMMAND.test((payload.comment.body ?? '').trimStart())) return ignore(IGNORED.notCommand);
  // evalbot's own comments (and other apps') never trigger work, so no bot can loop with us.
  if (payload.sender.type === 'Bot') return ignore(IGNORED.botComment);
  const installationId = installationOf(payload, config);
  if (installationId === undefined) return ignore(IGNORED.noInstallation);
  const badCloneUrl = cloneUrlProblem(payload.repository.clone_url, config);
  if (badCloneUrl) return ignore(badCloneUrl);
  const job = jobCatalog.command.safeParse({
    pr: {
      installationId,
      owner: payload.repository.owner.login,
      repo: payload.repository.name,
      number: payload.issue.number,
      repoHtmlUrl: payload.repository.html_url,
      cloneUrl: payload.repository.clone_url,
    },
    request: {
      trigger: 'comment',
      deliveryId: ctx.deliveryId,
      sender: payload.sender.login,
      commentId: payload.comment.id,
      requestedAt: ctx.now.toISOString(),
    },
  });
  if (!job.success) return { kind: 'invalid', reason: `not a usable comment: ${describeIssues(job.error)}` };
  return record('created', { kind: 'command', job: job.data });
}

/**
 * Decide what a verified delivery asks for (docs/architecture.md, "What triggers an
 * evaluation"). Pure: reads only the payload and the configuration.
 */
export function routeDelivery(ctx: DeliveryContext, config: RoutingConfig): Decision {
  if (ctx.payload === null || typeof ctx.payload !== 'object' || Array.isArray(ctx.payload)) {
    return { kind: 'invalid', reason: 'the payload is not a JSON object' };
  }
  switch (ctx.event) {
    case 'ping':
      return { kind: 'ping' };
    case 'pull_request':
      return routePullRequest(ctx, config);
    case 'issue_comment':
      return routeIssueComment(ctx, config);
    default:
      return ignore(IGNORED.event(ctx.event));
  }
}
