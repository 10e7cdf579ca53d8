import { chmod, mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { commit, git } from '@evalbot/test-utils';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../src/program.ts';
import { captureCli } from './capture-cli.ts';

// `evalbot compare` runs a contributor's branch on the maintainer's machine: its `.evalbot.yml`
// commands, metric names and output are shown in the maintainer's terminal. A terminal control
// sequence there could set the clipboard (OSC 52), the window title, or clear and redraw the
// screen to fake a verdict.

/** ESC, BEL and the C1 controls (U+009B is CSI on terminals that read 8-bit controls). */
// biome-ignore lint/suspicious/noControlCharactersInRegex: finding control characters is the point.
const TERMINAL_CONTROL = /[\u0007\u001b\u0080-\u009f]/;

describe('evalbot compare, on a branch that writes terminal controls', () => {
  let dir: string;
  let repo: string;
  let env: Record<string, string | undefined>;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'evalbot-terminal-'));
    await chmod(dir, 0o711);
    repo = join(dir, 'model');
    await mkdir(repo);
    await git(repo, 'init', '-q', '-b', 'main', '.');
    await commit(
      repo,
      {
        'demo.py': 'import json\njson.dump({"accuracy": 0.9}, open("result.txt", "w"))\n',
        'requirements.txt': '',
      },
      'Base model',
    );
    await git(repo, 'checkout', '-q', '-b', 'controls');
    await commit(
      repo,
      {
        // YAML's "\e" and "\a" are ESC and BEL: the commands are shown as progress.
        '.evalbot.yml':
          'setup: "true \\e]52;c;cHduZWQ=\\a\\e[2J"\nrun: "python3 demo.py # \\e]0;pwned\\a\\u009b2J"\n',
        'demo.py':
          'import json, sys\njson.dump({"accuracy\\x1b[2J\\x9b1m": 0.95}, open("result.txt", "w"))\n',
      },
      'Print controls',
    );
    await git(repo, 'checkout', '-q', '-b', 'controls-crash', 'main');
    await commit(
      repo,
      {
        'demo.py':
          'import sys\nprint("\\x1b]0;pwned\\x07\\x1b[31mboom\\x9b0m", file=sys.stderr)\nsys.exit(3)\n',
      },
      'Crash with controls',
    );
    env = {
      PATH: process.env.PATH,
      LANG: process.env.LANG,
      PIP_INDEX_URL: process.env.PIP_INDEX_URL,
      PIP_EXTRA_INDEX_URL: process.env.PIP_EXTRA_INDEX_URL,
      EVALBOT_CACHE_DIR: process.env.EVALBOT_CACHE_DIR ?? join(dir, 'cache'),
      EVALBOT_WORK_DIR: join(dir, 'work'),
      EVALBOT_PYTHON: process.env.EVALBOT_PYTHON,
    };
  });

  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('shows its commands and metric names without their control characters', async () => {
    const cli = captureCli({ env, cwd: repo });
    const code = await runCli(['compare', '--base', 'main', '--head', 'controls', '--sequential'], cli.ctx);
    expect(code).toBe(0);
    expect(cli.stderr()).toMatch(/^head [0-9a-f]{7}: setup: setup 1\/1: true \]52;c;cHduZWQ=\[2J/m);
    expect(cli.stderr()).toMatch(/^head [0-9a-f]{7}: done: accuracy\[2J1m 0\.95/m);
    expect(cli.stderr()).not.toMatch(TERMINAL_CONTROL);
    expect(cli.stdout()).not.toMatch(TERMINAL_CONTROL);
  });

  it('shows the last line of a crash without its control characters', async () => {
    const cli = captureCli({ env, cwd: repo });
    const code = await runCli(
      ['compare', '--base', 'main', '--head', 'controls-crash', '--sequential'],
      cli.ctx,
    );
    expect(code).toBe(1);
    expect(cli.stderr()).toMatch(
      /^head [0-9a-f]{7}: failed: run: `python3 demo\.py` exited with code 3: .*boom/m,
    );
    expect(cli.stderr()).not.toMatch(TERMINAL_CONTROL);
    expect(cli.stdout()).not.toMatch(TERMINAL_CONTROL);
  });
});
