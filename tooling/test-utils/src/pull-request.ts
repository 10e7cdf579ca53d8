/**
 * A pull request as evalbot's job payloads carry it (`PullRequestRef` of `@evalbot/jobs`). Its
 * type is spelled here rather than imported, as `@evalbot/jobs` tests with this package: a field
 * the jobs package comes to require fails the type check where a test passes this to it.
 */
export interface PullRequestFixture {
  installationId: number;
  owner: string;
  repo: string;
  number: number;
  repoHtmlUrl: string;
  cloneUrl: string;
  headSha: string;
  baseSha: string;
  headRef: string;
  baseRef: string;
  fromFork: boolean;
  author: string;
  updatedAt?: string;
}

/**
 * A same-repository pull request, octo-org/hello-ml#7 from `better-model` into `main` with a
 * head of `a…a` and a base of `b…b`, changed by `overrides`. Its web and clone URLs are
 * github.com's for the owner and repository it ends up with.
 */
export function pullRequest(overrides: Partial<PullRequestFixture> = {}): PullRequestFixture {
  const owner = overrides.owner ?? 'octo-org';
  const repo = overrides.repo ?? 'hello-ml';
  return {
    installationId: 42,
    owner,
    repo,
    number: 7,
    repoHtmlUrl: `https://github.com/${owner}/${repo}`,
    cloneUrl: `https://github.com/${owner}/${repo}.git`,
    headSha: 'a'.repeat(40),
    baseSha: 'b'.repeat(40),
    headRef: 'better-model',
    baseRef: 'main',
    fromFork: false,
    author: 'alice',
    ...overrides,
  };
}
