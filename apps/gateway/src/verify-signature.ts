import { createHmac, timingSafeEqual } from 'node:crypto';

/**
 * True when `signature` (`X-Hub-Signature-256`) is the HMAC-SHA256 of the raw body bytes under
 * one of `secrets` (the current one, then the previous one during a rotation).
 *
 * Computed over the bytes as received rather than with `@octokit/webhooks-methods` `verify`,
 * whose string argument would be re-encoded: bytes that are not valid UTF-8 would be compared
 * after replacement, not as GitHub signed them. Same algorithm, same constant-time compare.
 */
export function verifySignature(body: Buffer, signature: string, secrets: readonly string[]): boolean {
  const given = Buffer.from(signature, 'utf8');
  let matched = false;
  for (const secret of secrets) {
    const expected = Buffer.from(`sha256=${createHmac('sha256', secret).update(body).digest('hex')}`, 'utf8');
    // Every secret is tried, so timing does not tell which one matched.
    if (given.length === expected.length && timingSafeEqual(given, expected)) matched = true;
  }
  return matched;
}
