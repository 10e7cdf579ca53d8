import { generateKeyPairSync } from 'node:crypto';

/** An RSA key pair for a test App, in the formats GitHub uses (the private key as PKCS#1 PEM). */
export interface AppKeyPair {
  /** `-----BEGIN RSA PRIVATE KEY-----…`, like the `.pem` file GitHub lets you download. */
  privateKey: string;
  /** SPKI PEM (`-----BEGIN PUBLIC KEY-----`). */
  publicKey: string;
}

/** Generate a 2048-bit RSA key pair, as GitHub generates for an App. */
export function generateAppKeyPair(): AppKeyPair {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', {
    modulusLength: 2048,
    privateKeyEncoding: { type: 'pkcs1', format: 'pem' },
    publicKeyEncoding: { type: 'spki', format: 'pem' },
  });
  return { privateKey, publicKey };
}
