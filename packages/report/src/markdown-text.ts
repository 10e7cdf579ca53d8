import { sliceWhole } from '@evalbot/repo-config/slice-whole';

// Text that came from the evaluated repository (metric names, messages, logs) is untrusted:
// escaped so it cannot add links, HTML, table cells or close the blocks the report opens, nor
// mention or cross-reference anyone in a comment the App posts.

// C1 (U+0080–U+009F) too: U+009B is CSI to terminals that read 8-bit controls (`evalbot compare`).
// And the bidi embeddings, overrides and isolates (U+202A–U+202E, U+2066–U+2069): with them a
// name displays as another ("Trojan Source"), or reorders the rest of its cell.
// biome-ignore lint/suspicious/noControlCharactersInRegex: removing control characters is the point.
const CONTROL_CHARACTERS = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/g;
// An OSC (`ESC ]`, e.g. a hyperlink or a window title) ends at BEL or at the next ESC (its `ESC \`
// terminator): never past a line, or one title would swallow the rest of the log.
// biome-ignore lint/suspicious/noControlCharactersInRegex: matching terminal escape sequences is the point.
const ANSI_ESCAPE = /\u001b\[[0-9;?]*[ -/]*[@-~]|\u001b\][^\u0007\u001b\n]*(?:\u0007|\u001b\\)?/g;

// U+2060 WORD JOINER would do as well; U+200B is what the report has always used.
const BREAK = '\u200b';
/**
 * What GitHub turns into a mention, a reference or a link in a comment or check run, in
 * Markdown and inside HTML blocks alike (mentions and references are found in the rendered
 * text, not the Markdown): `@user`, `@org/team` and `owner/repo@sha` (the `@`); `#1`,
 * `owner/repo#1` (`#` then a digit); `GH-1`; a commit SHA (7–40 hex digits as a word); URLs
 * with a scheme (`://`, `mailto:` and other `scheme:` forms need the `@` or `//` too) and bare
 * `www.` links. Each is broken by an invisible zero-width space, so it reads the same.
 */
const REFERENCES: ((text: string) => string)[] = [
  (text) => text.replace(/@/g, `@${BREAK}`),
  (text) => text.replace(/#(?=\d)/g, `#${BREAK}`),
  (text) => text.replace(/(GH)-(?=\d)/gi, `$1${BREAK}-`),
  // In pieces of at most 6, so no piece is a SHA of its own.
  (text) => text.replace(/\b[0-9a-f]{7,40}\b/gi, (sha) => (sha.match(/.{1,6}/g) ?? []).join(BREAK)),
  (text) => text.replace(/:\/\//g, `:${BREAK}//`),
  // Whatever comes before: GFM links `www.` after `_` too (`_www.x` is a word to `\b`).
  (text) => text.replace(/(www)\./gi, `$1${BREAK}.`),
];

/**
 * Make untrusted text unable to mention, cross-reference or autolink anything GitHub would
 * render: the one place this is done; every escape below for untrusted text goes through it.
 * Plain text stays plain (a check run's title): nothing else is escaped. Control characters go
 * first, as the escapes drop them anyway: `w\u0001ww.` must not become `www.` after the check.
 */
export function neutralizeReferences(text: string): string {
  return REFERENCES.reduce((out, neutralize) => neutralize(out), text.replace(CONTROL_CHARACTERS, ''));
}

/** Escape for HTML text and attribute context (inside `<summary>`, `<b>` …). */
export function escapeHtml(text: string): string {
  return text
    .replace(CONTROL_CHARACTERS, '')
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;');
}

/**
 * Escape for inline Markdown, including table cells: no emphasis, links, code, HTML, autolinks,
 * mentions or cell breaks; newlines become spaces.
 */
export function escapeMarkdown(text: string): string {
  return (
    escapeHtml(neutralizeReferences(text.replace(/\r?\n|\r/g, ' ')))
      // Only what is special mid-line: the report never starts a line with untrusted text.
      .replace(/([\\`*_[\]|~])/g, '\\$1')
  );
}

/**
 * Escape text in which `backtick spans` are meant as code (evaluator messages quote commands
 * that way): spans become `<code>`, everything stays escaped. `html` is for HTML-only contexts
 * such as `<summary>`, where Markdown is not parsed but mentions and references still are.
 */
export function escapeWithCode(text: string, context: 'markdown' | 'html'): string {
  const escapeText = context === 'html' ? (t: string) => escapeHtml(neutralizeReferences(t)) : escapeMarkdown;
  return text
    .split(/`([^`\n]+)`/)
    .map((part, i) => (i % 2 === 1 ? `<code>${escapeText(part)}</code>` : escapeText(part)))
    .join('');
}

/** Shorten to at most `max` characters, marking the cut with an ellipsis. */
export function truncate(text: string, max: number): string {
  if (text.length <= max) return text;
  return `${sliceWhole(text, max - 1)}…`;
}

/**
 * Make a process's output readable as plain text: drop ANSI colours and control characters, keep
 * what a terminal would show after carriage returns (Keras progress bars redraw one line with `\r`)
 * and backspaces.
 */
export function cleanLog(text: string): string {
  return text
    .replace(ANSI_ESCAPE, '')
    .split('\n')
    .map((line) => {
      const segments = line.split('\r').filter((s) => s.length > 0);
      const shown: string[] = [];
      for (const char of segments.length > 0 ? (segments[segments.length - 1] as string) : '') {
        if (char === '\b') shown.pop();
        else shown.push(char);
      }
      return shown.join('').replace(CONTROL_CHARACTERS, '');
    })
    .join('\n');
}

/** A fence longer than any run of backticks in `text`, so the text cannot close the block. */
export function fenceFor(text: string): string {
  let longest = 0;
  for (const run of text.match(/`+/g) ?? []) longest = Math.max(longest, run.length);
  return '`'.repeat(Math.max(3, longest + 1));
}

/** A fenced code block holding `text` verbatim. */
export function codeBlock(text: string, language = 'text'): string {
  const fence = fenceFor(text);
  return `${fence}${language}\n${text}\n${fence}`;
}

/** A link to a commit: short SHA in code, to `<repoHtmlUrl>/commit/<sha>`; no link without a URL. */
export function commitLink(repoHtmlUrl: string, sha: string): string {
  if (!/^[0-9a-f]{4,64}$/i.test(sha)) return `\`${escapeHtml(sha.slice(0, 12))}\``;
  // No web URL (the CLI on a local repository): the short SHA alone.
  if (!/^https?:\/\//.test(repoHtmlUrl)) return `\`${sha.slice(0, 7)}\``;
  return `[\`${sha.slice(0, 7)}\`](${repoHtmlUrl.replace(/\/+$/, '')}/commit/${sha})`;
}

/** A metric name as shown: escaped, and cut at 80 characters so one name cannot widen the table. */
export function metricLabel(name: string): string {
  return escapeMarkdown(truncate(name, 80));
}
