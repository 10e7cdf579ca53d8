import { JWT_MESSAGES, looksLikeJwt, verifyAppJwt } from './app-jwt.ts';
import { githubError } from './http-kit.ts';
import {
  installationCovers,
  type SimInstallation,
  type SimRepo,
  type SimState,
  type SimToken,
} from './sim-state.ts';

/** Who is calling, from the `Authorization` header. */
export type Caller =
  | { kind: 'anonymous' }
  | { kind: 'app' }
  | { kind: 'installation'; token: SimToken; installation: SimInstallation };

/**
 * Identify the caller: an App JWT (`Bearer eyJ…`, verified for real), an installation token
 * (`token ghs_…`, `Bearer ghs_…`, or Basic `x-access-token:ghs_…`), or nobody. A credential that
 * is present but wrong is refused with GitHub's 401, whatever the route.
 */
export function identifyCaller(authorization: string | undefined, state: SimState): Caller {
  const credential = credentialOf(authorization);
  if (credential === undefined) return { kind: 'anonymous' };
  if (looksLikeJwt(credential)) {
    const check = verifyAppJwt(credential, {
      publicKeys: state.app.publicKeys,
      appId: state.app.id,
      clientId: state.app.clientId,
      nowSeconds: Math.floor(state.clock() / 1000),
    });
    if (!check.ok) throw githubError(401, check.message);
    return { kind: 'app' };
  }
  const token = installationTokenOf(credential, state);
  if (!token) throw githubError(401, 'Bad credentials');
  const installation = state.installations.get(token.installationId);
  if (!installation) throw githubError(401, 'Bad credentials');
  return { kind: 'installation', token, installation };
}

/** The live (unexpired) installation token with this value, if any. */
export function installationTokenOf(value: string, state: SimState): SimToken | undefined {
  const token = state.tokens.get(value);
  if (!token || token.expiresAt <= state.clock()) return undefined;
  return token;
}

/** The secret in an Authorization header: `token X`, `Bearer X`, or the password of Basic auth. */
export function credentialOf(authorization: string | undefined): string | undefined {
  if (!authorization) return undefined;
  const match = /^(\w+)\s+(.+)$/.exec(authorization.trim());
  if (!match) return authorization.trim() || undefined;
  const [, scheme = '', value = ''] = match;
  if (scheme.toLowerCase() === 'basic') {
    const decoded = Buffer.from(value, 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    return colon >= 0 ? decoded.slice(colon + 1) : decoded;
  }
  return value.trim();
}

/** Whether an installation token may touch this repository. */
export function tokenCovers(token: SimToken, installation: SimInstallation, repo: SimRepo): boolean {
  return installationCovers(installation, repo) && (token.repoIds === null || token.repoIds.has(repo.id));
}

/** Refuse a caller that is not the App itself (App endpoints need a JWT). */
export function requireApp(caller: Caller): void {
  if (caller.kind !== 'app') throw githubError(401, JWT_MESSAGES.undecodable);
}
