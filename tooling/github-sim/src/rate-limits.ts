/** The `x-ratelimit-*` headers GitHub sends, counted per credential in hour-long windows. */
export class RateLimits {
  private readonly windows = new Map<string, { used: number; resetAt: number }>();

  constructor(private readonly clock: () => number) {}

  /** Count one request against `key` and return the headers to send. */
  hit(key: string, limit: number): Record<string, string> {
    const now = this.clock();
    let window = this.windows.get(key);
    if (!window || window.resetAt <= now) {
      window = { used: 0, resetAt: now + 3_600_000 };
      this.windows.set(key, window);
    }
    window.used += 1;
    return {
      'x-ratelimit-limit': String(limit),
      'x-ratelimit-remaining': String(Math.max(0, limit - window.used)),
      'x-ratelimit-reset': String(Math.floor(window.resetAt / 1000)),
      'x-ratelimit-used': String(window.used),
      'x-ratelimit-resource': 'core',
    };
  }
}
