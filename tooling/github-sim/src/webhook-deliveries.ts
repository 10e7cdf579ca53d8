import { randomInt, randomUUID } from 'node:crypto';
import {
  examplePayload,
  labelObject,
  object,
  repositoryObject,
  rewriteExampleText,
  stableId,
  userObject,
} from './example-payloads.ts';

export { examplePayload };

/** A JSON object as GitHub sends it. */
export type JsonObject = { [key: string]: unknown };

/** A repository as a delivery names it. */
export interface DeliveryRepo {
  owner: string;
  name: string;
  /** Numeric id; derived from the full name when omitted, so it is stable across deliveries. */
  id?: number;
  private?: boolean;
  defaultBranch?: string;
}

/** The pull request a `pull_request` or `issue_comment` delivery is about. */
export interface DeliveryPullRequest {
  number: number;
  headSha: string;
  baseSha: string;
  /** Default `feature`. */
  headRef?: string;
  /** Default the repo's default branch (`main`). */
  baseRef?: string;
  /** Where the head branch lives: a fork. Default the base repository. */
  headRepo?: DeliveryRepo;
  /** The author's login (`pull_request.user`). Default `octocat`. */
  author?: string;
  /** Label names on the PR. A `labeled` delivery adds `label`, `unlabeled` removes it. */
  labels?: string[];
  state?: 'open' | 'closed';
  merged?: boolean;
  draft?: boolean;
  title?: string;
  /** `pull_request.updated_at`; default now. */
  updatedAt?: string;
}

export interface BuildDeliveryOptions {
  /** `X-GitHub-Event`, e.g. `pull_request`, `issue_comment`, `ping`, `push`. */
  event: string;
  /** The payload's `action`, e.g. `labeled`; events without actions (`ping`, `push`) take none. */
  action?: string;
  /** Default `octo-org/hello-ml`. */
  repo?: DeliveryRepo;
  pullRequest?: DeliveryPullRequest;
  /** `installation.id`; `null` removes `installation` from the payload. Default 1. */
  installationId?: number | null;
  /** The label added or removed (`labeled` / `unlabeled`). */
  label?: string;
  /** The comment of an `issue_comment` delivery. */
  comment?: { body: string; id?: number; author?: string; authorAssociation?: string };
  /** `sender.login`; default the PR author. */
  sender?: string;
  /** REST base, e.g. `http://127.0.0.1:4010/api/v3`. Default `https://api.github.com`. */
  apiUrl?: string;
  /** Web and git base, e.g. `http://127.0.0.1:4010`. Default `https://github.com`. */
  webUrl?: string;
  /** `X-GitHub-Delivery`; default a new UUID. */
  id?: string;
  /** `X-GitHub-Hook-ID`; default a fixed id. */
  hookId?: number;
  /** `X-GitHub-Hook-Installation-Target-ID`: the App's id. Default 1. */
  appId?: number;
  /** `push` only: ref and SHAs. */
  push?: { ref: string; before: string; after: string };
}

/** A webhook delivery ready to sign and send. */
export interface WebhookDelivery {
  event: string;
  /** `X-GitHub-Delivery`. */
  id: string;
  hookId: number;
  appId: number;
  payload: JsonObject;
  /** `payload` serialised as GitHub sends it: the exact bytes that are signed. */
  body: string;
}

const DEFAULT_REPO: DeliveryRepo = { owner: 'octo-org', name: 'hello-ml' };
const DEFAULT_HOOK_ID = 424242;

function labelNames(opts: BuildDeliveryOptions): string[] {
  const names = [...(opts.pullRequest?.labels ?? [])];
  if (opts.label && opts.action === 'labeled' && !names.includes(opts.label)) names.push(opts.label);
  if (opts.label && opts.action === 'unlabeled') return names.filter((n) => n !== opts.label);
  return names;
}

/**
 * Build a webhook delivery from GitHub's own example payload for `event`/`action`
 * (`@octokit/webhooks-examples`), rewritten to the given repository, pull request,
 * installation, label, comment and sender, with every URL under `apiUrl` / `webUrl`.
 */
export function buildDelivery(opts: BuildDeliveryOptions): WebhookDelivery {
  const repo = opts.repo ?? DEFAULT_REPO;
  const api = (opts.apiUrl ?? 'https://api.github.com').replace(/\/+$/, '');
  const web = (opts.webUrl ?? 'https://github.com').replace(/\/+$/, '');
  const example = examplePayload(opts.event, opts.action);
  const fromRepo = object(example.repository).full_name;
  const payload = JSON.parse(
    rewriteExampleText(
      JSON.stringify(example),
      typeof fromRepo === 'string' ? fromRepo : undefined,
      repo,
      api,
      web,
    ),
  ) as JsonObject;
  const fullName = `${repo.owner}/${repo.name}`;
  const pr = opts.pullRequest;
  const author = pr?.author ?? 'octocat';
  const senderLogin = opts.sender ?? opts.comment?.author ?? author;

  if ('repository' in payload)
    payload.repository = repositoryObject(payload.repository, repo, api, web, false);
  payload.sender = userObject(payload.sender, senderLogin, api, web);
  if (opts.installationId === null) delete payload.installation;
  else {
    const id = opts.installationId ?? 1;
    payload.installation = { id, node_id: Buffer.from(`03:Installation${id}`).toString('base64') };
  }
  if (opts.event === 'ping') payload.hook_id = opts.hookId ?? DEFAULT_HOOK_ID;
  if (opts.label && (opts.action === 'labeled' || opts.action === 'unlabeled')) {
    payload.label = labelObject(opts.label, api, repo);
  }

  if (opts.event === 'pull_request' && pr) {
    const headRepo = pr.headRepo ?? repo;
    const isFork = pr.headRepo !== undefined && `${pr.headRepo.owner}/${pr.headRepo.name}` !== fullName;
    const headRef = pr.headRef ?? 'feature';
    const baseRef = pr.baseRef ?? repo.defaultBranch ?? 'main';
    const current = object(payload.pull_request);
    const closed = pr.state === 'closed' || opts.action === 'closed';
    const merged = pr.merged ?? false;
    const updatedAt = pr.updatedAt ?? new Date().toISOString().replace(/\.\d{3}Z$/, 'Z');
    payload.number = pr.number;
    payload.pull_request = {
      ...current,
      url: `${api}/repos/${fullName}/pulls/${pr.number}`,
      id: stableId(`${fullName}#${pr.number}`),
      html_url: `${web}/${fullName}/pull/${pr.number}`,
      diff_url: `${web}/${fullName}/pull/${pr.number}.diff`,
      patch_url: `${web}/${fullName}/pull/${pr.number}.patch`,
      issue_url: `${api}/repos/${fullName}/issues/${pr.number}`,
      commits_url: `${api}/repos/${fullName}/pulls/${pr.number}/commits`,
      comments_url: `${api}/repos/${fullName}/issues/${pr.number}/comments`,
      statuses_url: `${api}/repos/${fullName}/statuses/${pr.headSha}`,
      number: pr.number,
      state: closed ? 'closed' : 'open',
      title: pr.title ?? current.title,
      draft: pr.draft ?? false,
      user: userObject(current.user, author, api, web),
      labels: labelNames(opts).map((name) => labelObject(name, api, repo)),
      updated_at: updatedAt,
      closed_at: closed ? updatedAt : null,
      merged,
      merged_at: merged ? updatedAt : null,
      head: {
        ...object(current.head),
        label: `${headRepo.owner}:${headRef}`,
        ref: headRef,
        sha: pr.headSha,
        user: userObject(object(current.head).user, headRepo.owner, api, web),
        repo: repositoryObject(object(current.head).repo, headRepo, api, web, isFork),
      },
      base: {
        ...object(current.base),
        label: `${repo.owner}:${baseRef}`,
        ref: baseRef,
        sha: pr.baseSha,
        user: userObject(object(current.base).user, repo.owner, api, web),
        repo: repositoryObject(object(current.base).repo, repo, api, web, false),
      },
    };
    if (opts.action === 'synchronize') {
      payload.after = pr.headSha;
      if (typeof payload.before !== 'string') payload.before = '0'.repeat(40);
    }
  }

  if (opts.event === 'issue_comment') {
    const issue = object(payload.issue);
    const number = pr?.number ?? (typeof issue.number === 'number' ? issue.number : 1);
    payload.issue = {
      ...issue,
      url: `${api}/repos/${fullName}/issues/${number}`,
      html_url: `${web}/${fullName}/${pr ? 'pull' : 'issues'}/${number}`,
      comments_url: `${api}/repos/${fullName}/issues/${number}/comments`,
      number,
      title: pr?.title ?? issue.title,
      user: userObject(issue.user, author, api, web),
      labels: (pr?.labels ?? []).map((name) => labelObject(name, api, repo)),
      state: pr?.state ?? 'open',
    };
    if (pr) {
      object(payload.issue).pull_request = {
        url: `${api}/repos/${fullName}/pulls/${number}`,
        html_url: `${web}/${fullName}/pull/${number}`,
        diff_url: `${web}/${fullName}/pull/${number}.diff`,
        patch_url: `${web}/${fullName}/pull/${number}.patch`,
        merged_at: null,
      };
    } else {
      delete object(payload.issue).pull_request;
    }
    if (opts.comment) {
      const commentId = opts.comment.id ?? randomInt(1, 2 ** 31);
      payload.comment = {
        ...object(payload.comment),
        id: commentId,
        url: `${api}/repos/${fullName}/issues/comments/${commentId}`,
        html_url: `${web}/${fullName}/${pr ? 'pull' : 'issues'}/${number}#issuecomment-${commentId}`,
        issue_url: `${api}/repos/${fullName}/issues/${number}`,
        body: opts.comment.body,
        user: userObject(object(payload.comment).user, senderLogin, api, web),
        author_association: opts.comment.authorAssociation ?? 'OWNER',
      };
    }
  }

  if (opts.event === 'push' && opts.push) {
    payload.ref = opts.push.ref;
    payload.before = opts.push.before;
    payload.after = opts.push.after;
    payload.compare = `${web}/${fullName}/compare/${opts.push.before.slice(0, 12)}...${opts.push.after.slice(0, 12)}`;
  }

  return {
    event: opts.event,
    id: opts.id ?? randomUUID(),
    hookId: opts.hookId ?? DEFAULT_HOOK_ID,
    appId: opts.appId ?? 1,
    payload,
    body: JSON.stringify(payload),
  };
}
