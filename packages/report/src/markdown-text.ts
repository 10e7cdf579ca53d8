// Text that came from the evaluated repository (metric names, messages, logs) is untrusted:
// escaped so it cannot add links, HTML, table cells or close the blocks the report opens.

// biome-ignore lint/suspicious/noControlCharactersInRegex: removing control characters is the point.
const CONTROL_CHARACTERS = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f]/g;
// biome-ignore lint/suspicious/noControlCharactersInRegex: matching terminal escape sequences is the point.
const ANSI_ESCAPE = /\u001b\[[0-9;?]*[ -/]*[@-~]|\u001b\][^\u0007]*(?:\u0007|\u001b\\)?/g;

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
    escapeHtml(text.replace(/\r?\n|\r/g, ' '))
      // Only what is special mid-line: the report never starts a line with untrusted text.
      .replace(/([\\`*_[\]|~])/g, '\\$1')
      .replace(/@/g, '@\u200b')
      .replace(/:\/\//g, ':\u200b//')
  );
}

/**
 * Escape text in which `backtick spans` are meant as code (evaluator messages quote commands
 * that way): spans become `<code>`, everything stays escaped. `html` is for HTML-only contexts
 * such as `<summary>`, where Markdown is not parsed.
 */
export function escapeWithCode(text: string, context: 'markdown' | 'html'): string {
  const escapeText = context === 'html' ? escapeHtml : escapeMarkdown;
  return text
    .split(/`([^`\n]+)`/)
    .map((part, i) => (i % 2 === 1 ? `<code>${escapeText(part)}</code>` : escapeText(part)))
    .join('');
}

/** Shorten to at most `max` characters, marking the cut with an ellipsis. */
export function truncate(text: string, max: number): string {
  if (text.length <= max) return text;
  return `${text.slice(0, Math.max(0, max - 1))}…`;
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
