import { createRequire } from 'node:module';
import type { DeliveryRepo, JsonObject } from './webhook-deliveries.ts';

// GitHub's own example payloads (@octokit/webhooks-examples), and the pieces that rewrite them
// to another repository, user and host: what makes a delivery look exactly like GitHub's.

interface ExampleDefinition {
  name: string;
  examples: JsonObject[];
}

const require = createRequire(import.meta.url);
// The package's main is a JSON file; require reads it without import attributes.
const definitions = require('@octokit/webhooks-examples') as ExampleDefinition[];

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

export function object(value: unknown): JsonObject {
  return value !== null && typeof value === 'object' && !Array.isArray(value) ? (value as JsonObject) : {};
}

export function stableId(text: string): number {
  let hash = 0;
  for (const char of text) hash = (hash * 31 + char.charCodeAt(0)) >>> 0;
  return (hash % 900_000_000) + 100_000_000;
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** Point every URL and name of the example's repository at `repo` on the given hosts. */
export function rewriteExampleText(
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

export function userObject(template: unknown, login: string, api: string, web: string): JsonObject {
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

export function repositoryObject(
  template: unknown,
  repo: DeliveryRepo,
  api: string,
  web: string,
  isFork: boolean,
) {
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

export function labelObject(name: string, api: string, repo: DeliveryRepo): JsonObject {
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
