/**
 * Why `url` may not be cloned, or undefined when it may: it must be on `allowedOrigin`
 * (`GITHUB_URL`: same scheme, host and port, under its path) and carry no credentials
 * (the token travels in a header, never in a URL that could end up in `.git/config` or a log).
 */
export function checkCloneUrl(url: string, allowedOrigin: string): string | undefined {
  let target: URL;
  let allowed: URL;
  try {
    allowed = new URL(allowedOrigin);
  } catch {
    return `the allowed origin "${allowedOrigin}" is not a URL`;
  }
  try {
    target = new URL(url);
  } catch {
    return 'it is not a URL';
  }
  if (target.username || target.password) return 'it carries credentials; pass them as gitEnv instead';
  if (!['https:', 'http:', 'file:'].includes(target.protocol))
    return `the ${target.protocol} scheme is not allowed`;
  const base = allowed.pathname.replace(/\/+$/, '');
  const inside =
    target.protocol === allowed.protocol &&
    target.host === allowed.host &&
    (target.pathname === base || target.pathname.startsWith(`${base}/`));
  if (!inside) return `it is not on ${allowedOrigin.replace(/\/+$/, '')}`;
  if (target.pathname.split('/').some((segment) => segment === '..' || segment === '%2e%2e')) {
    return 'its path contains ".."';
  }
  return undefined;
}
