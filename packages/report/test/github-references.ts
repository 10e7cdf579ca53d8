import { marked } from 'marked';

// GitHub's filters, after Markdown: mentions (`@user`, `@org/team`, `owner/repo@sha`), issue and
// pull request references (`#1`, `owner/repo#1`, `GH-1`) and commit SHAs, found in the rendered
// text outside code, pre and links — inside HTML blocks such as <summary> too.
const TEXT_REFERENCES: RegExp[] = [
  /(?<![\w`])@[a-z0-9][a-z0-9-]*(?:\/[a-z0-9][\w-]*)?/gi,
  /(?<![\w/])(?:[\w.-]+\/[\w.-]+)?#\d+/g,
  /\bGH-\d+/gi,
  /\b[0-9a-f]{7,40}\b/gi,
];

const ENTITIES: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', '#39': "'" };

function decode(html: string): string {
  return html.replace(/&(amp|lt|gt|quot|#39);/g, (_, name: string) => ENTITIES[name] as string);
}

/**
 * What GitHub would turn into a mention, a cross-reference or an autolink in `markdown` (a
 * comment or a check run's summary or text): autolinks as GFM makes them (marked), then the
 * text patterns GitHub links in what is rendered. The report's own links (`[text](url)`) are
 * not autolinks; empty means the text cannot notify or link to anyone.
 */
export function linkedByGitHub(markdown: string): string[] {
  const html = (marked.parse(markdown, { gfm: true, async: false }) as string).replace(
    /<!--[\s\S]*?-->/g,
    '',
  );
  const found: string[] = [];
  for (const [, href, inner] of html.matchAll(/<a href="([^"]*)"[^>]*>([\s\S]*?)<\/a>/g)) {
    const text = decode((inner as string).replace(/<[^>]*>/g, ''));
    const url = decode(href as string);
    if ([text, `http://${text}`, `mailto:${text}`].includes(url)) found.push(`autolink ${text}`);
  }
  const text = decode(html.replace(/<(code|pre|a)\b[^>]*>[\s\S]*?<\/\1>/g, ' ').replace(/<[^>]*>/g, ' '));
  for (const pattern of TEXT_REFERENCES) for (const [match] of text.matchAll(pattern)) found.push(match);
  return found;
}
