/**
 * Cut `text` to at most `limit` characters, ending with a note that it was cut, so an oversized
 * report is posted shortened rather than refused with 422.
 */
export function truncateForGitHub(text: string, limit: number): string {
  if (text.length <= limit) return text;
  const note = `\n\n… _(truncated to GitHub's ${limit}-character limit)_`;
  let cut = limit - note.length;
  // Never between the halves of a surrogate pair (an emoji): half a pair is not Unicode.
  const last = text.charCodeAt(cut - 1);
  if (last >= 0xd800 && last <= 0xdbff) cut -= 1;
  return text.slice(0, cut) + note;
}
