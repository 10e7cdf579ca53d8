/**
 * The first `length` UTF-16 units of `text`, one fewer when the cut would split a surrogate pair
 * (an emoji): half a pair is not Unicode, and cannot be encoded as the UTF-8 GitHub stores.
 *
 * The one home of this cut, exported alone as `@evalbot/repo-config/slice-whole` (no zod, no
 * YAML): this package depends on no other of evalbot's, so `@evalbot/github` and
 * `@evalbot/report` import it without a cycle.
 */
export function sliceWhole(text: string, length: number): string {
  const cut = Math.max(0, length);
  const last = text.charCodeAt(cut - 1);
  return text.slice(0, last >= 0xd800 && last <= 0xdbff ? cut - 1 : cut);
}
