import { describe, expect, it } from 'vitest';
import { sliceWhole } from '../src/slice-whole.ts';

describe('sliceWhole', () => {
  it('cuts before an emoji rather than through it, and keeps an emoji the cut ends after', () => {
    expect(sliceWhole('ab😀cd', 3)).toBe('ab');
    expect(sliceWhole('ab😀cd', 4)).toBe('ab😀');
    expect(sliceWhole('ab😀cd', 2)).toBe('ab');
  });

  it('gives the empty string for a length of zero or less, never a slice from the end', () => {
    expect(sliceWhole('abc', 0)).toBe('');
    expect(sliceWhole('abc', -5)).toBe('');
    expect(sliceWhole('😀', 1)).toBe('');
  });
});
