import { describe, expect, it } from 'vitest';
import { rateLimitedUntil } from '../src/rate-limited-until.ts';

const now = Date.parse('2026-01-01T00:00:00Z');
const answer = (status: number, headers: Record<string, string>) => ({ status, response: { headers } });

describe('rateLimitedUntil', () => {
  it('waits out a secondary rate limit for its retry-after, and a second more', () => {
    expect(rateLimitedUntil(answer(403, { 'retry-after': '90' }), now)).toBe(now + 91_000);
    expect(rateLimitedUntil(answer(429, { 'retry-after': '0' }), now)).toBe(now + 1000);
  });

  it('waits out a primary rate limit until its reset', () => {
    const reset = String(now / 1000 + 600);
    expect(
      rateLimitedUntil(answer(403, { 'x-ratelimit-remaining': '0', 'x-ratelimit-reset': reset }), now),
    ).toBe(now + 601_000);
  });

  it('never waits more than an hour, nor for a reset already past', () => {
    expect(rateLimitedUntil(answer(403, { 'retry-after': '86400' }), now)).toBe(now + 3601_000);
    const past = String(now / 1000 - 5);
    expect(
      rateLimitedUntil(answer(403, { 'x-ratelimit-remaining': '0', 'x-ratelimit-reset': past }), now),
    ).toBe(now + 1000);
  });

  it('leaves every other error to the job’s attempts', () => {
    expect(rateLimitedUntil(answer(403, { 'x-ratelimit-remaining': '12' }), now)).toBeUndefined();
    expect(rateLimitedUntil(answer(500, { 'retry-after': '5' }), now)).toBeUndefined();
    expect(rateLimitedUntil(new Error('socket hang up'), now)).toBeUndefined();
    expect(rateLimitedUntil(undefined, now)).toBeUndefined();
  });
});
