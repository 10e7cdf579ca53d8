/**
 * The `Authorization` header git should send for an installation token:
 * `Authorization: Basic base64("x-access-token:<token>")`, as GitHub accepts for clones.
 */
export function gitAuthHeader(token: string): string {
  return `Authorization: Basic ${Buffer.from(`x-access-token:${token}`).toString('base64')}`;
}

/**
 * Environment variables that give git the token as an `http.extraHeader`, through
 * `GIT_CONFIG_COUNT`/`GIT_CONFIG_KEY_n`/`GIT_CONFIG_VALUE_n` (git ≥ 2.31). The token is never on
 * a command line (visible in `ps`), in a URL, or written to `.git/config`. With `url`, the header
 * is only sent to that origin (`http.<url>.extraHeader`). Pass `env` to append to config entries
 * it already has. `GIT_TERMINAL_PROMPT=0` makes a refused clone fail instead of prompting.
 */
export function gitCredentialEnv(
  token: string,
  opts: { url?: string; env?: Record<string, string | undefined> } = {},
): Record<string, string> {
  const index = Number.parseInt(opts.env?.GIT_CONFIG_COUNT ?? '0', 10) || 0;
  const key = opts.url ? `http.${new URL(opts.url).origin}/.extraHeader` : 'http.extraHeader';
  return {
    GIT_CONFIG_COUNT: String(index + 1),
    [`GIT_CONFIG_KEY_${index}`]: key,
    [`GIT_CONFIG_VALUE_${index}`]: gitAuthHeader(token),
    GIT_TERMINAL_PROMPT: '0',
  };
}
