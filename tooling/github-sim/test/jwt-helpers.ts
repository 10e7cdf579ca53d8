import { createPrivateKey, sign } from 'node:crypto';

/** Sign arbitrary JWT claims with RS256, so tests can send GitHub the JWTs it must refuse. */
export function signJwt(claims: Record<string, unknown>, privateKeyPem: string): string {
  const encode = (value: object) => Buffer.from(JSON.stringify(value)).toString('base64url');
  const input = `${encode({ alg: 'RS256', typ: 'JWT' })}.${encode(claims)}`;
  const signature = sign('RSA-SHA256', Buffer.from(input), createPrivateKey(privateKeyPem)).toString(
    'base64url',
  );
  return `${input}.${signature}`;
}

/** Claims like a well-behaved client's: issued 30 s ago, valid 10 minutes. */
export function goodClaims(appId: number, nowSeconds = Math.floor(Date.now() / 1000)) {
  return { iat: nowSeconds - 30, exp: nowSeconds + 570, iss: appId };
}

/** Mint an installation token from the sim the way a client does (JWT → access_tokens). */
export async function installationToken(
  sim: { url: string; appId: number; privateKey: string | undefined },
  installationId: number,
  /** `repositories`, `repository_ids`, `permissions`: a token narrowed to them. */
  scope?: Record<string, unknown>,
): Promise<string> {
  const jwt = signJwt(goodClaims(sim.appId), sim.privateKey ?? '');
  const res = await fetch(`${sim.url}/app/installations/${installationId}/access_tokens`, {
    method: 'POST',
    headers: { authorization: `Bearer ${jwt}` },
    ...(scope ? { body: JSON.stringify(scope) } : {}),
  });
  if (res.status !== 201) throw new Error(`token mint failed: ${res.status} ${await res.text()}`);
  return ((await res.json()) as { token: string }).token;
}
