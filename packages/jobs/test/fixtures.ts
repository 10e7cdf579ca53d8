import type { EvaluationRequest, PullRequestRef } from '../src/index.ts';

export const HEAD = 'a'.repeat(40);
export const BASE = 'b'.repeat(40);

export function pullRequest(overrides: Partial<PullRequestRef> = {}): PullRequestRef {
  return {
    installationId: 42,
    owner: 'octo-org',
    repo: 'hello-ml',
    number: 7,
    repoHtmlUrl: 'https://github.com/octo-org/hello-ml',
    cloneUrl: 'https://github.com/octo-org/hello-ml.git',
    headSha: HEAD,
    baseSha: BASE,
    headRef: 'better-model',
    baseRef: 'main',
    fromFork: false,
    author: 'alice',
    ...overrides,
  };
}

export function request(overrides: Partial<EvaluationRequest> = {}): EvaluationRequest {
  return {
    trigger: 'labeled',
    deliveryId: crypto.randomUUID(),
    sender: 'alice',
    requestedAt: new Date().toISOString(),
    ...overrides,
  };
}
