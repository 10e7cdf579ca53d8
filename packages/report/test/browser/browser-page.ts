import { createRequire } from 'node:module';
import { join } from 'node:path';
import { marked } from 'marked';
import type { Browser, Page } from 'playwright-core';

const MERMAID_PATH = join(
  createRequire(import.meta.url)
    .resolve('mermaid/package.json')
    .replace(/package\.json$/, ''),
  'dist/mermaid.min.js',
);
const INSPECT_SCRIPT = join(import.meta.dirname, 'inspect-rendered.js');

/** GitHub-flavoured Markdown to HTML, as GitHub's renderer reads it (tables, fenced code, raw HTML). */
export function markdownToHtml(markdown: string): string {
  return marked.parse(markdown, { gfm: true, async: false });
}

// Roughly github.com's light theme for a PR comment, so screenshots read like the real thing.
const GITHUB_CSS = `
  body { margin: 0; padding: 24px; background: #ffffff; color: #1f2328;
    font: 14px/1.5 -apple-system, BlinkMacSystemFont, "Segoe UI", "Noto Sans", Helvetica, Arial, sans-serif, "Noto Color Emoji"; }
  .comment { max-width: 920px; border: 1px solid #d0d7de; border-radius: 6px; }
  .comment-header { background: #f6f8fa; border-bottom: 1px solid #d0d7de; padding: 8px 16px; color: #59636e;
    border-radius: 6px 6px 0 0; }
  .comment-header b { color: #1f2328; }
  .bot { border: 1px solid #d0d7de; border-radius: 2em; padding: 0 6px; font-size: 12px; margin-left: 4px; }
  #comment-body { padding: 16px; }
  #comment-body > :first-child { margin-top: 0; }
  h2 { font-size: 1.5em; font-weight: 600; border-bottom: 1px solid #d1d9e0; padding-bottom: .3em; margin: 24px 0 16px; }
  h3 { font-size: 1.25em; font-weight: 600; margin: 24px 0 16px; }
  p, ul, blockquote, table, pre, details { margin: 0 0 16px; }
  a { color: #0969da; text-decoration: none; }
  code { font-family: ui-monospace, SFMono-Regular, "SF Mono", Menlo, Consolas, "Liberation Mono", monospace;
    font-size: 85%; background: rgba(129,139,152,.12); border-radius: 6px; padding: .2em .4em; }
  pre { background: #f6f8fa; border-radius: 6px; padding: 16px; overflow: auto; font-size: 85%; line-height: 1.45; }
  pre code { background: transparent; padding: 0; font-size: 100%; }
  table { border-collapse: collapse; display: block; width: max-content; max-width: 100%; overflow: auto; }
  th, td { border: 1px solid #d1d9e0; padding: 6px 13px; }
  th { font-weight: 600; }
  tr:nth-child(2n) { background: #f6f8fa; }
  blockquote { color: #59636e; border-left: .25em solid #d1d9e0; padding: 0 1em; margin-left: 0; }
  summary { cursor: pointer; }
  sub { color: #59636e; }
  .mermaid-chart { margin: 0 0 16px; max-width: 600px; }
`;

/** A page that looks like a GitHub PR comment holding `bodyHtml`. */
export function commentPage(bodyHtml: string): string {
  return `<!doctype html><html><head><meta charset="utf-8"><style>${GITHUB_CSS}</style></head><body>
<div class="comment"><div class="comment-header"><b>evalbot</b><span class="bot">bot</span> commented</div>
<div id="comment-body">${bodyHtml}</div></div></body></html>`;
}

export interface MermaidResult {
  ok: boolean;
  lines: number;
  error: string | null;
}
export interface Inspection {
  tables: { header: string[]; rowCellCounts: number[]; rows: string[][] }[];
  details: { summary: string | null; nested: boolean; open: boolean }[];
  comments: { text: string; insideDetails: boolean }[];
  footer: { text: string; insideDetails: boolean } | null;
  topLevelAfterLastDetails: string[];
  scripts: number;
  codeBlocks: string[];
}

export interface CommentViewer {
  page: Page;
  /** Show `markdown` as the comment body, draw its charts, and report what a reader sees. */
  show(markdown: string): Promise<{ mermaid: MermaidResult[]; inspection: Inspection }>;
  close(): Promise<void>;
}

/**
 * A page that shows comments as GitHub would: GFM to HTML, Mermaid blocks drawn by
 * mermaid.min.js from node_modules (loaded once). No network: every request is refused.
 */
export async function openCommentViewer(browser: Browser, width = 1000): Promise<CommentViewer> {
  const page = await browser.newPage({ viewport: { width, height: 800 }, deviceScaleFactor: 1 });
  await page.route('**/*', (route) => route.abort());
  await page.setContent(commentPage(''));
  await page.addScriptTag({ path: MERMAID_PATH });
  await page.addScriptTag({ path: INSPECT_SCRIPT });
  return {
    page,
    async show(markdown) {
      await page.evaluate(`window.evalbotShow(${JSON.stringify(markdownToHtml(markdown))})`);
      const mermaid = (await page.evaluate('window.evalbotRenderMermaid()')) as MermaidResult[];
      const inspection = (await page.evaluate('window.evalbotInspect()')) as Inspection;
      return { mermaid, inspection };
    },
    close: () => page.close(),
  };
}
