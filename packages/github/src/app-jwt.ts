import { createPrivateKey, type KeyObject, sign } from 'node:crypto';

/**
 * Parse the App's private key once, so a bad key fails at start-up with a message that says
 * what to fix (and never echoes the key).
 */
export function parsePrivateKey(pem: string): KeyObject {
  try {
    const key = createPrivateKey(pem);
    if (key.asymmetricKeyType !== 'rsa') throw new Error(`a ${key.asymmetricKeyType} key`);
    return key;
  } catch (error) {
    throw new Error(
      `The GitHub App private key is not a valid RSA private key (${(error as Error).message}); ` +
        'download a new .pem from the App settings page and set PRIVATE_KEY or PRIVATE_KEY_PATH',
    );
  }
}

/**
 * An App JWT as GitHub wants it: RS256, `iss` = App id, `iat` 30 s in the past (clock drift),
 * `exp` 10 minutes after `iat` — the longest GitHub accepts.
 */
export function createAppJwt(
  appId: number,
  key: KeyObject,
  nowSeconds: number,
): { jwt: string; expiresAt: string } {
  const iat = nowSeconds - 30;
  const exp = iat + 600;
  const encode = (value: object) => Buffer.from(JSON.stringify(value)).toString('base64url');
  const signingInput = `${encode({ alg: 'RS256', typ: 'JWT' })}.${encode({ iat, exp, iss: appId })}`;
  const signature = sign('RSA-SHA256', Buffer.from(signingInput), key).toString('base64url');
  return { jwt: `${signingInput}.${signature}`, expiresAt: new Date(exp * 1000).toISOString() };
}
