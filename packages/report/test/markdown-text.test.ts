import { describe, expect, it } from 'vitest';
import {
  cleanLog,
  codeBlock,
  commitLink,
  escapeHtml,
  escapeMarkdown,
  escapeWithCode,
  fenceFor,
  neutralizeReferences,
} from '../src/markdown-text.ts';
import { linkedByGitHub } from './github-references.ts';

/** PR output GitHub would link: each of these notifies, cross-references or links when posted as is. */
const ATTACKS = [
  '@octocat',
  'cc @org/team please',
  'see org/repo#1',
  'fixes #12',
  'GH-7',
  'octo-org/mnist-demo@abc1234f5e6d7c8b9a0f',
  'commit abc1234f5e6d',
  'https://evil.example/x',
  'www.evil.example',
  '_www.evil.example',
  'loss_www.evil.example',
  'mail me@evil.example',
];

describe('untrusted text in Markdown', () => {
  it('escapes table pipes, emphasis, links and HTML', () => {
    expect(escapeMarkdown('a|b *c* [d](e) <img> `f`')).toBe('a\\|b \\*c\\* \\[d\\](e) &lt;img&gt; \\`f\\`');
  });

  it('defuses mentions and autolinks', () => {
    expect(escapeMarkdown('@octocat https://x.io')).toBe('@\u200boctocat https:\u200b//x.io');
  });

  describe('mentions, references and links from PR output', () => {
    it.each(ATTACKS)('GitHub would link %j as it is', (text) => {
      // The detector finds each attack unescaped: the checks below can fail.
      expect(linkedByGitHub(`Result: ${text}`)).not.toEqual([]);
    });

    it.each(ATTACKS)('%j links nothing in Markdown, a table cell, a <summary> or a code span', (text) => {
      expect(linkedByGitHub(`Result: ${escapeMarkdown(text)}`)).toEqual([]);
      expect(linkedByGitHub(`| a | b |\n|---|---|\n| ${escapeMarkdown(text)} | x |`)).toEqual([]);
      const summary = `<details>\n<summary>failed: ${escapeWithCode(text, 'html')}</summary>\n\nx\n</details>`;
      expect(linkedByGitHub(summary)).toEqual([]);
      expect(linkedByGitHub(escapeWithCode(`ran \`${text}\` then ${text}`, 'markdown'))).toEqual([]);
    });

    it('cannot be broken out of with backticks around a mention', () => {
      const text = '`x` @octocat ``y`` `` `@org/team` org/repo#1';
      expect(linkedByGitHub(escapeWithCode(text, 'markdown'))).toEqual([]);
      expect(linkedByGitHub(`**Message:** ${escapeMarkdown(text)}`)).toEqual([]);
    });

    it('cannot be hidden by control characters the escapes drop', () => {
      const text = 'w\u0001ww.evil.example #\u00012 G\u0001H-3 abc\u00011234f5e6 http:\u0001//evil.example';
      expect(linkedByGitHub(`Result: ${escapeMarkdown(text)}`)).toEqual([]);
      expect(
        linkedByGitHub(`<details>\n<summary>${escapeWithCode(text, 'html')}</summary>\n\nx\n</details>`),
      ).toEqual([]);
    });

    it('reads the same: only invisible zero-width spaces are added', () => {
      for (const text of ATTACKS) expect(neutralizeReferences(text).replaceAll('\u200b', '')).toBe(text);
      expect(neutralizeReferences('loss 0.25 at epoch 3, accuracy 97%')).toBe(
        'loss 0.25 at epoch 3, accuracy 97%',
      );
    });
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
