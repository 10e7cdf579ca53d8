import { describe, expect, it } from 'vitest';
import { createProgress } from '../src/progress.ts';

function stream(isTTY: boolean) {
  let written = '';
  const write = (chunk: string) => {
    written += chunk;
  };
  return { write, isTTY, columns: 60, text: () => written };
}

/** What a terminal shows after interpreting carriage returns, line clears and cursor-up. */
function screen(text: string): string[] {
  const lines: string[] = [''];
  let row = 0;
  const ESC = String.fromCharCode(27);
  for (const token of text.split(new RegExp(`(\r|${ESC}\\[2K|${ESC}\\[1A|\n)`))) {
    if (token === '\r') continue;
    else if (token === '\x1b[2K') lines[row] = '';
    else if (token === '\x1b[1A') row = Math.max(0, row - 1);
    else if (token === '\n') {
      row++;
      if (lines.length <= row) lines.push('');
    } else lines[row] = (lines[row] ?? '') + token;
  }
  return lines.filter((line) => line !== '');
}

describe('createProgress', () => {
  it('writes one plain line per start, change of message and end when not on a terminal', () => {
    let now = 1_000;
    const out = stream(false);
    const progress = createProgress({ stream: out, now: () => now });
    const head = progress.task('head abc1234');
    head.update('setup: installing requirements', 20);
    head.update('setup: installing requirements', 40);
    head.update('run: epoch 1/3', 50);
    now += 12_345;
    head.succeed('accuracy 0.97');
    const base = progress.task('base def5678');
    base.fail('run crashed');
    progress.log('report written');
    expect(out.text()).toBe(
      [
        'head abc1234: started',
        'head abc1234: setup: installing requirements (20%)',
        'head abc1234: run: epoch 1/3 (50%)',
        'head abc1234: done: accuracy 0.97 (12.3 s)',
        'base def5678: started',
        'base def5678: failed: run crashed (0.0 s)',
        'report written',
        '',
      ].join('\n'),
    );
    expect(out.text()).not.toContain('\x1b');
  });

  it('draws a spinner line per running task on a terminal and leaves finished ones above', () => {
    const out = stream(true);
    const progress = createProgress({ stream: out, now: () => 0, intervalMs: 60_000 });
    const head = progress.task('head abc1234');
    const base = progress.task('base def5678');
    head.update('run: epoch 2/3', 66);
    base.update('setup: installing requirements');
    expect(screen(out.text())).toEqual([
      '⠋ head abc1234 — run: epoch 2/3 (66%)',
      '⠋ base def5678 — setup: installing requirements',
    ]);

    head.succeed('accuracy 0.97');
    progress.log('cache: environment reused');
    expect(screen(out.text())).toEqual([
      '✔ head abc1234: accuracy 0.97 (0.0 s)',
      'cache: environment reused',
      '⠋ base def5678 — setup: installing requirements',
    ]);

    base.fail('run crashed');
    progress.stop();
    expect(screen(out.text())).toEqual([
      '✔ head abc1234: accuracy 0.97 (0.0 s)',
      'cache: environment reused',
      '✖ base def5678: run crashed (0.0 s)',
    ]);
  });

  it('cuts spinner lines to the terminal width', () => {
    const out = stream(true);
    const progress = createProgress({ stream: out, intervalMs: 60_000 });
    progress.task('head').update('x'.repeat(200));
    expect(screen(out.text())[0]?.length).toBeLessThanOrEqual(59);
    progress.stop();
    expect(screen(out.text())).toEqual([]);
  });

  it('falls back to plain lines on a terminal with TERM=dumb or in CI', () => {
    for (const env of [{ TERM: 'dumb' }, { CI: 'true' }]) {
      const out = stream(true);
      createProgress({ stream: out, env }).task('head').succeed();
      expect(out.text()).toMatch(/^head: started\nhead: done \(\d+\.\d s\)\n$/);
    }
  });
});
