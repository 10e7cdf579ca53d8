import { createHmac, randomInt, randomUUID } from 'node:crypto';
import { createRequire } from 'node:module';
import { sign } from '@octokit/webhooks-methods';

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

interface ExampleDefinition {
  name: string;
  examples: JsonObject[];
}

const require = createRequire(import.meta.url);
// The package's main is a JSON file; require reads it without import attributes.
const definitions = require('@octokit/webhooks-examples') as ExampleDefinition[];

const DEFAULT_REPO: DeliveryRepo = { owner: 'octo-org', name: 'hello-ml' };
const DEFAULT_HOOK_ID = 424242;

/** A copy of the first example payload of `event` (and `action`), preferring one from an App installation. */
export function examplePayload(event: string, action?: string): JsonObject {
  const definition = definitions.find((d) => d.name === event);
  if (!definition) throw new Error(`@octokit/webhooks-examples has no "${event}" event`);
  const matching = definition.examples.filter((e) => action === undefined || e.action === action);
  const example = matching.find((e) => 'installation' in e) ?? matching[0];
  if (!example) {
    const actions = [...new Set(definition.examples.map((e) => String(e.action)))].join(', ');
    throw new Error(
      `@octokit/webhooks-examples has no "${event}" example with action "${action}" (has ${actions})`,
    );
  }
  return structuredClone(example);
}

function object(value: unknown): JsonObject {
  return value !== null && typeof value === 'object' && !Array.isArray(value) ? (value as JsonObject) : {};
}

function stableId(text: string): number {
  let hash = 0;
  for (const char of text) hash = (hash * 31 + char.charCodeAt(0)) >>> 0;
  return (hash % 900_000_000) + 100_000_000;
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** Point every URL and name of the example's repository at `repo` on the given hosts. */
function rewriteExampleText(
  text: string,
  from: string | undefined,
  to: DeliveryRepo,
  api: string,
  web: string,
) {
  const webHost = new URL(web).host;
  let out = text;
  if (from) out = out.replace(new RegExp(escapeRegExp(from), 'g'), `${to.owner}/${to.name}`);
  return out
    .replace(/https:\/\/api\.github\.com/g, api)
    .replace(/https?:\/\/github\.com/g, web)
    .replace(/git:\/\/github\.com\//g, `git://${webHost}/`)
    .replace(/git@github\.com:/g, `git@${webHost}:`);
}

function userObject(template: unknown, login: string, api: string, web: string): JsonObject {
  return {
    ...object(template),
    login,
    id: stableId(login),
    node_id: Buffer.from(`04:User${stableId(login)}`).toString('base64'),
    url: `${api}/users/${login}`,
    html_url: `${web}/${login}`,
    type: 'User',
    site_admin: false,
  };
}

function repositoryObject(template: unknown, repo: DeliveryRepo, api: string, web: string, isFork: boolean) {
  const fullName = `${repo.owner}/${repo.name}`;
  const webHost = new URL(web).host;
  const base = object(template);
  return {
    ...base,
    id: repo.id ?? stableId(fullName),
    name: repo.name,
    full_name: fullName,
    private: repo.private ?? false,
    owner: userObject(base.owner, repo.owner, api, web),
    html_url: `${web}/${fullName}`,
    url: `${api}/repos/${fullName}`,
    clone_url: `${web}/${fullName}.git`,
    git_url: `git://${webHost}/${fullName}.git`,
    ssh_url: `git@${webHost}:${fullName}.git`,
    svn_url: `${web}/${fullName}`,
    fork: isFork,
    default_branch: repo.defaultBranch ?? 'main',
  };
}

function labelObject(name: string, api: string, repo: DeliveryRepo): JsonObject {
  return {
    id: stableId(`label:${name}`),
    node_id: Buffer.from(`05:Label${stableId(name)}`).toString('base64'),
    url: `${api}/repos/${repo.owner}/${repo.name}/labels/${encodeURIComponent(name)}`,
    name,
    color: '0e8a16',
    default: false,
    description: null,
  };
}

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

/** The signature headers GitHub computes over `body` with the webhook secret. */
export async function signDelivery(
  body: string,
  secret: string,
): Promise<{ 'X-Hub-Signature-256': string; 'X-Hub-Signature': string }> {
  return {
    'X-Hub-Signature-256': await sign(secret, body),
    // The legacy SHA-1 header GitHub still sends beside the SHA-256 one.
    'X-Hub-Signature': `sha1=${createHmac('sha1', secret).update(body).digest('hex')}`,
  };
}

/** Every header GitHub sends with a delivery, signed with `secret`. */
export async function deliveryHeaders(
  delivery: WebhookDelivery,
  secret: string,
): Promise<Record<string, string>> {
  return {
    'Content-Type': 'application/json',
    'User-Agent': 'GitHub-Hookshot/8d5e4a1',
    'X-GitHub-Event': delivery.event,
    'X-GitHub-Delivery': delivery.id,
    'X-GitHub-Hook-ID': String(delivery.hookId),
    'X-GitHub-Hook-Installation-Target-ID': String(delivery.appId),
    'X-GitHub-Hook-Installation-Target-Type': 'integration',
    ...(await signDelivery(delivery.body, secret)),
  };
}

/** POST a signed delivery to `url`, as GitHub does; resolves with the status and body text. */
export async function sendDelivery(
  url: string,
  delivery: WebhookDelivery,
  secret: string,
): Promise<{ status: number; body: string }> {
  const response = await fetch(url, {
    method: 'POST',
    headers: await deliveryHeaders(delivery, secret),
    body: delivery.body,
    signal: AbortSignal.timeout(10_000),
  });
  return { status: response.status, body: await response.text() };
}
