import { describe, expect, it } from 'vitest';
import {
  cleanLog,
  codeBlock,
  commitLink,
  escapeHtml,
  escapeMarkdown,
  escapeWithCode,
  fenceFor,
} from '../src/markdown-text.ts';

describe('untrusted text in Markdown', () => {
  it('escapes table pipes, emphasis, links and HTML', () => {
    expect(escapeMarkdown('a|b *c* [d](e) <img> `f`')).toBe('a\\|b \\*c\\* \\[d\\](e) &lt;img&gt; \\`f\\`');
  });

  it('defuses mentions and autolinks', () => {
    expect(escapeMarkdown('@octocat https://x.io')).toBe('@\u200boctocat https:\u200b//x.io');
  });

  it('turns newlines into spaces so a value stays on its table row', () => {
    expect(escapeMarkdown('a\nb\r\nc')).toBe('a b c');
  });

  it('escapes for HTML contexts like <summary>', () => {
    expect(escapeHtml('</summary><b>"x"</b> & y')).toBe(
      '&lt;/summary&gt;&lt;b&gt;&quot;x&quot;&lt;/b&gt; &amp; y',
    );
  });

  it('renders backtick spans of messages as code and escapes the rest', () => {
    expect(escapeWithCode('`pip install` failed for <x>', 'html')).toBe(
      '<code>pip install</code> failed for &lt;x&gt;',
    );
    expect(escapeWithCode('run `a_b` now_', 'markdown')).toBe('run <code>a\\_b</code> now\\_');
  });

  it('links short SHAs to commits, and shows them plain without a web URL (CLI)', () => {
    const sha = 'abc1234f5e6d7c8b9a0f1e2d3c4b5a6978695a4b';
    expect(commitLink('https://github.com/o/r/', sha)).toBe(
      `[\`abc1234\`](https://github.com/o/r/commit/${sha})`,
    );
    expect(commitLink('', sha)).toBe('`abc1234`');
    expect(commitLink('javascript:alert(1)', sha)).toBe('`abc1234`');
  });

  it('uses a fence longer than any backtick run in the text', () => {
    expect(fenceFor('plain')).toBe('```');
    expect(fenceFor('``` and `````')).toBe('``````');
    expect(codeBlock('x ```` y')).toBe('`````text\nx ```` y\n`````');
  });

  it('keeps what a terminal shows of progress bars, backspaces and colours', () => {
    expect(cleanLog('a\r\nb')).toBe('a\nb');
    expect(cleanLog(' 1/3\r 2/3\r 3/3 done')).toBe(' 3/3 done');
    expect(cleanLog('abc\b\bd')).toBe('ad');
    expect(cleanLog('\u001b[1;31mred\u001b[0m \u0007bell')).toBe('red bell');
  });
});
