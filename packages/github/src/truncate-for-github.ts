import { sliceWhole } from '@evalbot/repo-config/slice-whole';

/**
 * Cut `text` to at most `limit` characters, ending with a note that it was cut, so an oversized
 * report is posted shortened rather than refused with 422.
 */
export function truncateForGitHub(text: string, limit: number): string {
  if (text.length <= limit) return text;
  const note = `\n\n… _(truncated to GitHub's ${limit}-character limit)_`;
  return sliceWhole(text, limit - note.length) + note;
}
