/** A permission of a GitHub App, as `POST /app/installations/{id}/access_tokens` names it. */
export type AppPermission = 'checks' | 'contents' | 'issues' | 'metadata' | 'pull_requests';

/**
 * What one installation token may do: some repositories of the installation, some of the App's
 * permissions. GitHub refuses anything else with it (404 for another repository, 403
 * `Resource not accessible by integration` for another permission), so a token that leaks or
 * is misused from a job reaches no further than the job needs.
 */
export interface TokenScope {
  /** Repository names, without the owner (the installation's account owns them). */
  repositories: readonly string[];
  permissions: Readonly<Partial<Record<AppPermission, 'read' | 'write'>>>;
}

/** Clone and read one repository. */
export function cloneScope(repo: string): TokenScope {
  return { repositories: [repo], permissions: { contents: 'read' } };
}
