/** The parts of Octokit's `request` an auth hook uses. */
interface HookRequest {
  (options: { headers: Record<string, unknown> } & Record<string, unknown>): Promise<unknown>;
  endpoint: {
    merge(
      route: unknown,
      parameters?: unknown,
    ): { headers: Record<string, unknown> } & Record<string, unknown>;
  };
}

/**
 * An Octokit `authStrategy` that sends `token <installation token>` from `token()` on every
 * request: for clients whose token is narrowed (see `TokenScope`), which auth-app's own hook
 * cannot mint. `token()` caches; this asks it each time so a refreshed token is used.
 */
export function createScopedTokenAuth({ token }: { token: () => Promise<string> }) {
  const auth = async () => ({ type: 'token', tokenType: 'installation', token: await token() });
  return Object.assign(auth, {
    hook: async (request: HookRequest, route: unknown, parameters?: unknown) => {
      const endpoint = request.endpoint.merge(route, parameters);
      endpoint.headers.authorization = `token ${await token()}`;
      return request(endpoint);
    },
  });
}
