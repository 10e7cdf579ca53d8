import { type KeyObject, verify } from 'node:crypto';

/** GitHub's own words for the JWTs it refuses (all 401). */
export const JWT_MESSAGES = {
  undecodable: 'A JSON web token could not be decoded',
  expired:
    "'Expiration time' claim ('exp') must be a numeric value representing the future time at which the assertion expires",
  tooLong: "'Expiration time' claim ('exp') is too far in the future",
  issuedAt:
    "'Issued at' claim ('iat') must be an Integer representing the time that the assertion was issued",
} as const;

export type JwtCheck = { ok: true } | { ok: false; message: string };

export interface JwtExpectations {
  /** The App's keys: a JWT signed with any of them is accepted. */
  publicKeys: KeyObject[];
  appId: number;
  /** GitHub also accepts the App's client id as `iss`. */
  clientId?: string;
  /** Now, in seconds since the epoch. */
  nowSeconds: number;
  /** How far in the future `iat` may be, as GitHub tolerates a little clock drift. */
  skewSeconds?: number;
}

/** Verify an App JWT as GitHub does: RS256 over the App's key, `iss`, `iat` and `exp` (at most 10 minutes). */
export function verifyAppJwt(token: string, expected: JwtExpectations): JwtCheck {
  const undecodable = { ok: false, message: JWT_MESSAGES.undecodable } as const;
  const parts = token.split('.');
  if (parts.length !== 3) return undecodable;
  const [headerPart = '', payloadPart = '', signaturePart = ''] = parts;
  const header = decodeJson(headerPart);
  const payload = decodeJson(payloadPart);
  if (!header || !payload || header.alg !== 'RS256') return undecodable;
  const signatureOk = expected.publicKeys.some((publicKey) =>
    verify(
      'RSA-SHA256',
      Buffer.from(`${headerPart}.${payloadPart}`),
      publicKey,
      Buffer.from(signaturePart, 'base64url'),
    ),
  );
  // A JWT for another App, or signed with another key, is indistinguishable to GitHub from garbage.
  if (!signatureOk || !issuerMatches(payload.iss, expected)) return undecodable;

  const skew = expected.skewSeconds ?? 60;
  const { iat, exp } = payload;
  if (typeof iat !== 'number' || !Number.isInteger(iat) || iat > expected.nowSeconds + skew) {
    return { ok: false, message: JWT_MESSAGES.issuedAt };
  }
  if (typeof exp !== 'number' || exp <= expected.nowSeconds)
    return { ok: false, message: JWT_MESSAGES.expired };
  if (exp - iat > 600) return { ok: false, message: JWT_MESSAGES.tooLong };
  return { ok: true };
}

/** True for strings shaped like a JWT, so the sim can tell App auth from installation tokens. */
export function looksLikeJwt(token: string): boolean {
  return /^eyJ[\w-]*\.[\w-]*\.[\w-]*$/.test(token);
}

function issuerMatches(iss: unknown, expected: JwtExpectations): boolean {
  if (typeof iss === 'number') return iss === expected.appId;
  if (typeof iss !== 'string') return false;
  if (expected.clientId && iss === expected.clientId) return true;
  return /^\d+$/.test(iss) && Number(iss) === expected.appId;
}

function decodeJson(part: string): Record<string, unknown> | undefined {
  try {
    const value: unknown = JSON.parse(Buffer.from(part, 'base64url').toString('utf8'));
    return value && typeof value === 'object' && !Array.isArray(value)
      ? (value as Record<string, unknown>)
      : undefined;
  } catch {
    return undefined;
  }
}
