const TOKEN_PATTERNS = [
  /\bgh[pousr]_[A-Za-z0-9]{20,}\b/g, // GitHub tokens (installation tokens are ghs_…)
  /\bv1\.[0-9a-f]{40}\b/g, // legacy installation tokens
  /-----BEGIN [A-Z ]*PRIVATE KEY-----[\s\S]*?-----END [A-Z ]*PRIVATE KEY-----/g,
  /\beyJ[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]{10,}\b/g, // JWTs
  /(authorization:\s*)(bearer|token|basic)\s+\S+/gi,
  /(https?:\/\/)[^\s/@:]+:[^\s/@]+@/g, // credentials in URLs
];

/**
 * Remove secrets from free text: every exact value in `secrets` (at least 6 characters long)
 * and anything shaped like a GitHub token, JWT, private key or URL credential.
 */
export function redactSecrets(text: string, secrets: readonly (string | undefined)[] = []): string {
  let out = text;
  for (const secret of secrets) {
    if (secret && secret.length >= 6) out = out.split(secret).join('[redacted]');
  }
  for (const pattern of TOKEN_PATTERNS) {
    out = out.replace(pattern, (match, prefix?: string, scheme?: string) => {
      if (pattern.source.startsWith('(authorization')) return `${prefix}${scheme} [redacted]`;
      if (pattern.source.startsWith('(https?')) return `${prefix}[redacted]@`;
      return match.startsWith('-----') ? '[redacted private key]' : '[redacted]';
    });
  }
  return out;
}
