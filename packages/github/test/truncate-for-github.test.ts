import { describe, expect, it } from 'vitest';
import { truncateForGitHub } from '../src/truncate-for-github.ts';

const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

describe('truncateForGitHub', () => {
  it('cuts to the limit with a note, never between the halves of an emoji', () => {
    const text = '😀'.repeat(300);
    // Every limit puts the cut at an even or an odd offset: one of them falls inside a pair.
    for (let limit = 200; limit < 210; limit++) {
      const cut = truncateForGitHub(text, limit);
      expect(cut.length).toBeLessThanOrEqual(limit);
      expect(cut).toMatch(new RegExp(`… _\\(truncated to GitHub's ${limit}-character limit\\)_$`));
      expect(LONE_SURROGATE.test(cut)).toBe(false);
    }
  });

  it('leaves text within the limit alone', () => {
    expect(truncateForGitHub('short 😀', 100)).toBe('short 😀');
  });
});
