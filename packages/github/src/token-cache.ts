/**
 * The cache `@octokit/auth-app` keeps installation tokens in, shared by every client of one App.
 *
 * auth-app's own cache forgets a token 59 minutes after it was minted, whatever its real
 * `expires_at`. This one reads `expires_at` from the cached entry (auth-app stores
 * `token|createdAt|expiresAt|…`) and drops the token `refreshMarginMs` before it expires, so a
 * request made late in a long job gets a fresh token instead of a 401.
 */
export interface TokenCache {
  get(key: string): string | undefined;
  set(key: string, value: string): void;
  readonly size: number;
}

export interface TokenCacheOptions {
  refreshMarginMs: number;
  clock: () => number;
  /** auth-app's own cap (15 000 tokens is less than 10 MB). */
  maxEntries?: number;
}

const FALLBACK_LIFETIME_MS = 59 * 60 * 1000;

export function createTokenCache({
  refreshMarginMs,
  clock,
  maxEntries = 15_000,
}: TokenCacheOptions): TokenCache {
  const entries = new Map<string, { value: string; staleAt: number }>();
  return {
    get(key) {
      const entry = entries.get(key);
      if (!entry) return undefined;
      if (clock() >= entry.staleAt) {
        entries.delete(key);
        return undefined;
      }
      return entry.value;
    },
    set(key, value) {
      const expiresAt = Date.parse(value.split('|')[2] ?? '');
      // An entry we cannot read the expiry of is kept as long as auth-app would keep it.
      const staleAt = Number.isNaN(expiresAt) ? clock() + FALLBACK_LIFETIME_MS : expiresAt - refreshMarginMs;
      entries.delete(key);
      entries.set(key, { value, staleAt });
      if (entries.size > maxEntries) {
        const oldest = entries.keys().next().value;
        if (oldest !== undefined) entries.delete(oldest);
      }
    },
    get size() {
      return entries.size;
    },
  };
}
