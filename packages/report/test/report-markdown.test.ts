import { describe, expect, it } from 'vitest';
import { buildReport, COMMENT_MARKER, isReportComment } from '../src/index.ts';
import {
  BASE_SHA,
  config,
  failed,
  HEAD_SHA,
  input,
  REPO_URL,
  run,
  succeeded,
  TRACEBACK_LOG,
} from './fixtures.ts';
import { linkedByGitHub } from './github-references.ts';

/** The cells of a Markdown table row, split on unescaped pipes. */
function cells(line: string): string[] {
  return line
    .split(/(?<!\\)\|/)
    .slice(1, -1)
    .map((c) => c.trim());
}

function tableRows(markdown: string): string[][] {
  const lines = markdown.split('\n');
  const start = lines.findIndex((l) => l.startsWith('| Metric |'));
  const rows: string[][] = [];
  for (let i = start + 2; i < lines.length && lines[i]?.startsWith('|'); i++)
    rows.push(cells(lines[i] as string));
  return rows;
}

const plain = (head: Record<string, number>, base: Record<string, number>) =>
  buildReport(input(succeeded(HEAD_SHA, [run(head)]), succeeded(BASE_SHA, [run(base)])));

describe('the comment', () => {
  it('starts with the marker the worker finds it by', () => {
    const { markdown } = plain({ accuracy: 0.98 }, { accuracy: 0.97 });
    expect(markdown.startsWith(`${COMMENT_MARKER}\n`)).toBe(true);
    expect(isReportComment(markdown)).toBe(true);
    expect(isReportComment('LGTM')).toBe(false);
  });

  it('has one row per metric on either side with base, head, change, relative change and result', () => {
    const { markdown } = plain(
      { accuracy: 0.9753, loss: 0.1234, f1: 0.97 },
      { accuracy: 0.9503, loss: 0.1712, epochs: 3 },
    );
    expect(markdown).toContain('| Metric | Base `def5678` | Head `abc1234` | Change | Relative | Result |');
    expect(tableRows(markdown)).toEqual([
      ['accuracy ↑', '95.03%', '97.53%', '+2.50 pts', '+2.63%', '🟢 better'],
      ['loss ↓', '0.1712', '0.1234', '−0.0478', '−27.9%', '🟢 better'],
      ['f1 ↑', '—¹', '97.00%', '—', '—', '🆕 only in head'],
      ['epochs', '3', '—¹', '—', '—', '➖ missing in head'],
    ]);
  });

  it('says in the summary line what happened', () => {
    const report = buildReport(
      input(
        succeeded(HEAD_SHA, [run({ accuracy: 0.975, loss: 0.25 })]),
        succeeded(BASE_SHA, [run({ accuracy: 0.95, loss: 0.3 })]),
        { baseConfig: config('metrics: { accuracy: { fail_if_worse_by: 0.01 } }') },
      ),
    );
    expect(report.summaryLine).toBe('accuracy +2.50 pts, loss −0.05 — passes');
    expect(report.markdown).toContain('## ✅ evalbot: accuracy +2.50 pts, loss −0.05 — passes');
  });

  it('marks worse, unchanged and direction-less changes', () => {
    const rows = tableRows(
      plain({ loss: 0.3, accuracy: 0.9, epochs: 5 }, { loss: 0.2, accuracy: 0.9, epochs: 3 }).markdown,
    );
    expect(rows.map((r) => r[5])).toEqual(['🔴 worse', '⚪ unchanged', '🔵 changed']);
    expect(rows[2]?.[0]).toBe('epochs');
  });

  it('explains a value missing on one side in a note', () => {
    const { markdown } = plain({ accuracy: 0.98, f1: 0.97 }, { accuracy: 0.97, top5_acc: 0.99 });
    expect(markdown).toContain(
      "- ¹ Missing on base: f1 — the base's metrics file did not have it (a new metric?)",
    );
    expect(markdown).toContain("- ¹ Missing on head: top5\\_acc — the head's metrics file no longer has it");
  });

  it('says noise was not measured with one run per side and suggests repeats: 3', () => {
    const { markdown } = plain({ accuracy: 0.98 }, { accuracy: 0.97 });
    expect(markdown).toContain('**Noise not measured:** each side ran once');
    expect(markdown).toContain('Add `repeats: 3` to the base branch’s `.evalbot.yml`');
  });

  it('shows mean ± standard deviation with repeats and explains the t-test', () => {
    const { markdown } = buildReport(
      input(
        succeeded(HEAD_SHA, [run({ loss: 0.13 }, 42), run({ loss: 0.14 }, 43), run({ loss: 0.12 }, 44)]),
        succeeded(BASE_SHA, [run({ loss: 0.2 }, 42), run({ loss: 0.21 }, 43), run({ loss: 0.19 }, 44)]),
        { baseConfig: config('repeats: 3') },
      ),
    );
    expect(tableRows(markdown)[0]).toEqual([
      'loss ↓',
      '0.2 ± 0.01',
      '0.13 ± 0.01',
      '−0.07',
      '−35%',
      '🟢 better (p = 0.001)',
    ]);
    expect(markdown).toContain('**Noise measured:** 3 runs of the head and 3 of the base');
    expect(markdown).not.toContain('repeats: 3`');
    expect(markdown).toContain('| Seeds | 42, 43, 44 | 42, 43, 44 |');
  });

  it('escapes metric names so they cannot break the table, add HTML or mention people', () => {
    const { markdown } = plain({ 'a|b<script>x</script>@team': 1 }, { 'a|b<script>x</script>@team': 2 });
    const row = tableRows(markdown)[0] as string[];
    expect(row).toHaveLength(6);
    const visible = markdown.replace(/<!-- evalbot:history .* -->/, '');
    expect(visible).not.toContain('<script>');
    expect(visible).not.toMatch(/@team/);
    expect(markdown).toContain('## ℹ️ evalbot: a\\|b&lt;script&gt;x&lt;/script&gt;@\u200bteam');
  });

  it('links short SHAs to their commits and tells what was reused, versions, seeds and stage times', () => {
    const { markdown } = buildReport(
      input(
        succeeded(HEAD_SHA, [run({ accuracy: 0.98 }, 7)]),
        succeeded(BASE_SHA, [run({ accuracy: 0.97 }, 7)], { resultReused: true, environmentReused: false }),
      ),
    );
    expect(markdown).toContain(`[\`abc1234\`](${REPO_URL}/commit/${HEAD_SHA})`);
    expect(markdown).toContain(`[\`def5678\`](${REPO_URL}/commit/${BASE_SHA})`);
    expect(markdown).toContain('<summary>Run details: commits, environment, seeds, time per stage</summary>');
    expect(markdown).toContain('| Result | ♻️ reused from cache (not trained again) | trained for this run |');
    expect(markdown).toContain('| Environment | built | reused from cache |');
    expect(markdown).toContain('| Python | 3.11.2 | 3.11.2 |');
    expect(markdown).toContain('| tensorflow-cpu | 2.21.0 | 2.21.0 |');
    expect(markdown).toContain('| Seed | 7 | 7 |');
    expect(markdown).toContain('| setup | 18 s | 18 s |');
  });

  it('is the same for the same input', () => {
    const make = () => plain({ accuracy: 0.98, loss: 0.1 }, { accuracy: 0.97, loss: 0.2 });
    expect(make()).toEqual(make());
  });
});

describe('a failed side', () => {
  const base = succeeded(BASE_SHA, [run({ accuracy: 0.9753, loss: 0.1234 })]);

  it('gets its stage, message and log tail in a collapsed details block', () => {
    const { markdown } = buildReport(
      input(failed(HEAD_SHA, 'run', '`python3 demo.py` exited with code 1', TRACEBACK_LOG), base),
    );
    expect(markdown).toContain(
      '<summary>❌ <b>Head</b> <code>abc1234</code> failed at <b>run</b>: <code>python3 demo.py</code> exited with code 1</summary>',
    );
    expect(markdown).toContain('**Stage:** run');
    expect(markdown).toContain('ValueError: Input 0 of layer "dense" is incompatible');
  });

  it('still shows the other side’s metrics', () => {
    const { markdown } = buildReport(input(failed(HEAD_SHA, 'setup', 'pip failed', 'ERROR'), base));
    expect(tableRows(markdown)).toEqual([
      ['accuracy ↑', '97.53%', '—', '—', '—', 'head failed'],
      ['loss ↓', '0.1234', '—', '—', '—', 'head failed'],
    ]);
  });

  it('fences the log with more backticks than the log contains, so it cannot close the block', () => {
    const { markdown } = buildReport(input(failed(HEAD_SHA, 'run', 'x', 'a ``` b\n````\n`````` six'), base));
    const lines = markdown.split('\n');
    const open = lines.findIndex((l) => /^`{3,}text$/.test(l));
    const fence = (lines[open] as string).replace('text', '');
    expect(fence).toBe('```````');
    const close = lines.indexOf(fence, open + 1);
    expect(lines.slice(open + 1, close)).toEqual(['a ``` b', '````', '`````` six']);
    expect(lines[close + 2]).toBe('</details>');
  });

  it('redacts secrets from the log and the message', () => {
    const { markdown, checkRun } = buildReport(
      input(
        failed(
          HEAD_SHA,
          'run',
          'auth failed with hunter2-secret-value',
          `${TRACEBACK_LOG}\npassword=hunter2-secret-value`,
        ),
        base,
        { secrets: ['hunter2-secret-value'] },
      ),
    );
    for (const text of [markdown, checkRun.text, checkRun.summary]) {
      expect(text).not.toContain('hunter2-secret-value');
      expect(text).not.toContain('ghs_abcdefghijklmnopqrstuvwxyz0123456789');
    }
    expect(markdown).toContain('Using token [redacted] for the dataset mirror');
    expect(markdown).toContain('password=[redacted]');
  });

  it('strips terminal colours and progress-bar redraws from the log', () => {
    const log = '\u001b[31mERROR\u001b[0m: bad\n 10/100 [=>...]\r100/100 [=====] done\n';
    const { markdown } = buildReport(input(failed(HEAD_SHA, 'run', 'x', log), base));
    expect(markdown).toContain('ERROR: bad\n100/100 [=====] done\n```');
    expect(markdown).not.toContain('\u001b');
  });

  it('shows the config problems of an invalid .evalbot.yml instead of a crash', () => {
    const { markdown, checkRun } = buildReport(
      input(failed(HEAD_SHA, 'config', '.evalbot.yml is invalid', ''), base, {
        configErrors: {
          head: {
            file: '.evalbot.yml',
            problems: [{ key: 'runn', problem: 'is not a known key', fix: 'did you mean `run`?' }],
          },
        },
      }),
    );
    expect(checkRun.conclusion).toBe('failure');
    expect(markdown).toContain('## ❌ evalbot: head’s .evalbot.yml is invalid — fails');
    expect(markdown).toContain('| <code>runn</code> | is not a known key | did you mean <code>run</code>? |');
  });

  it('warns when a side that ran had an unusable .evalbot.yml', () => {
    const { markdown } = buildReport(
      input(succeeded(HEAD_SHA, [run({ accuracy: 0.98 })]), base, {
        configErrors: {
          base: {
            file: '.evalbot.yml',
            problems: [{ key: 'repeats', problem: 'is 0', fix: 'e.g. `repeats: 3`' }],
          },
        },
      }),
    );
    expect(markdown).toContain('⚠️ The base’s `.evalbot.yml` could not be used, so the defaults were.');
  });
});

describe('the check run output', () => {
  it('carries the conclusion, the summary line as title, the table as summary and the details as text', () => {
    const { checkRun } = buildReport(
      input(
        failed(HEAD_SHA, 'run', 'crashed', TRACEBACK_LOG),
        succeeded(BASE_SHA, [run({ accuracy: 0.97 })]),
      ),
    );
    expect(checkRun.conclusion).toBe('failure');
    expect(checkRun.title).toBe('head failed at run — fails');
    expect(checkRun.summary).toContain('| Metric | Base `def5678` | Head `abc1234` |');
    expect(checkRun.summary).not.toContain(COMMENT_MARKER);
    expect(checkRun.text).toContain('ValueError: Input 0 of layer');
    expect(checkRun.text).toContain('Run details');
  });
});

describe('text the PR controls', () => {
  // Output, metric names, history series and .evalbot.yml keys, each naming people, teams,
  // issues and sites: rendered as they are, they would notify and link from the App's comment.
  const ping = '@octocat @org/team org/repo#1 #2 GH-3 www.evil.example';
  const metrics = { [`acc ${ping}`]: 0.9, '@octocat': 0.5, 'loss org/repo#1': 0.2 };
  const history = { [`loss ${ping}`]: [0.5, 0.25] };

  it('mentions, cross-references and links no one in the comment or the check run', () => {
    const passing = buildReport(
      input(
        succeeded(HEAD_SHA, [run(metrics, 42, history)]),
        succeeded(BASE_SHA, [run(metrics, 42, history)]),
      ),
    );
    const failing = buildReport(
      input(
        failed(
          HEAD_SHA,
          'config',
          `\`python3 demo.py\` exited with code 1: ValueError: ${ping}`,
          `${ping}\n`,
        ),
        succeeded(BASE_SHA, [run(metrics)]),
        {
          configErrors: {
            head: {
              file: '.evalbot.yml',
              problems: [{ key: `metrics.${ping}`, problem: `is ${ping}`, fix: `ask \`${ping}\`` }],
            },
          },
        },
      ),
    );
    for (const report of [passing, failing]) {
      for (const markdown of [report.markdown, report.checkRun.summary, report.checkRun.text]) {
        expect(linkedByGitHub(markdown)).toEqual([]);
      }
      expect(linkedByGitHub(report.checkRun.title)).toEqual([]);
    }
    // Still there to read: only zero-width spaces were added.
    const shown = (text: string) => text.replaceAll('\u200b', '');
    expect(shown(failing.markdown)).toContain(
      `<summary>❌ <b>Head</b> <code>abc1234</code> failed at <b>config (.evalbot.yml)</b>: <code>python3 demo.py</code> exited with code 1: ValueError: ${ping}</summary>`,
    );
    expect(shown(passing.markdown)).toContain('| @octocat |');
    expect(shown(passing.checkRun.title)).toContain('@octocat');
  });
});
