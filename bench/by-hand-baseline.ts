import { spawn } from 'node:child_process';
import { mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';

/**
 * What the original tutorial's server does for a PR, with plain git and Python and no evalbot
 * code: clone head and base, make a fresh virtual environment, `pip install -r
 * requirements.txt` into it, then train head and base one after the other in that process.
 * The end-to-end benchmark compares evalbot against this.
 */
export interface ByHandOptions {
  /** A clone URL git can read without credentials (the bench uses a public repo of the stand-in). */
  repoUrl: string;
  headRef: string;
  baseRef: string;
  /** An empty directory for the checkouts and the venv. */
  workDir: string;
  /** Default `python3`. */
  python?: string;
  /** The environment for git, pip and training (pip's index settings come from here). */
  env: Record<string, string | undefined>;
}

export interface ByHandResult {
  totalMs: number;
  /** Wall-clock of each step, in the order they ran. */
  steps: { step: string; ms: number }[];
  head: Record<string, unknown>;
  base: Record<string, unknown>;
}

/** Run one command; resolve with its duration, reject with its output's tail when it fails. */
async function run(
  argv: string[],
  opts: { cwd: string; env: Record<string, string | undefined> },
): Promise<number> {
  const started = performance.now();
  const [command, ...args] = argv;
  if (!command) throw new Error('empty command');
  const child = spawn(command, args, { cwd: opts.cwd, env: opts.env, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  const keep = (chunk: Buffer) => {
    output = (output + chunk.toString()).slice(-4000);
  };
  child.stdout.on('data', keep);
  child.stderr.on('data', keep);
  const code = await new Promise<number | null>((resolve, reject) => {
    child.once('error', reject);
    child.once('close', resolve);
  });
  if (code !== 0) throw new Error(`\`${argv.join(' ')}\` exited with ${code}:\n${output}`);
  return performance.now() - started;
}

/** The environment a command sees inside the venv, as `source venv/bin/activate` would make it. */
function venvEnv(venv: string, env: Record<string, string | undefined>): Record<string, string | undefined> {
  return { ...env, VIRTUAL_ENV: venv, PATH: `${join(venv, 'bin')}:${env.PATH ?? ''}` };
}

/** Clone, install and train head then base, timing each step. */
export async function runByHand(opts: ByHandOptions): Promise<ByHandResult> {
  const python = opts.python ?? 'python3';
  const steps: ByHandResult['steps'] = [];
  const step = async (name: string, argv: string[], cwd: string, env = opts.env) => {
    steps.push({ step: name, ms: await run(argv, { cwd, env }) });
  };
  await mkdir(opts.workDir, { recursive: true });
  const head = join(opts.workDir, 'head');
  const base = join(opts.workDir, 'base');
  const venv = join(opts.workDir, 'venv');
  const started = performance.now();

  await step(
    'clone head',
    ['git', 'clone', '--quiet', '--depth=1', '--branch', opts.headRef, opts.repoUrl, head],
    opts.workDir,
  );
  await step(
    'clone base',
    ['git', 'clone', '--quiet', '--depth=1', '--branch', opts.baseRef, opts.repoUrl, base],
    opts.workDir,
  );
  await step('python3 -m venv', [python, '-m', 'venv', venv], opts.workDir);
  const inVenv = venvEnv(venv, opts.env);
  await step(
    'pip install -r requirements.txt',
    ['pip', 'install', '--quiet', '-r', 'requirements.txt'],
    head,
    inVenv,
  );
  const headRequirements = await readFile(join(head, 'requirements.txt'), 'utf8');
  const baseRequirements = await readFile(join(base, 'requirements.txt'), 'utf8');
  if (baseRequirements !== headRequirements) {
    await step(
      'pip install -r requirements.txt (base)',
      ['pip', 'install', '--quiet', '-r', 'requirements.txt'],
      base,
      inVenv,
    );
  }
  await step('train head', ['python', 'demo.py'], head, inVenv);
  await step('train base', ['python', 'demo.py'], base, inVenv);
  const totalMs = performance.now() - started;

  const metrics = async (dir: string) =>
    JSON.parse(await readFile(join(dir, 'result.txt'), 'utf8')) as Record<string, unknown>;
  return { totalMs, steps, head: await metrics(head), base: await metrics(base) };
}

/**
 * The physical floor of evaluating a PR: both trainings started at the same moment in a
 * ready venv (nothing else: no clone, no install). Also times them one after the other.
 */
export async function timeTrainings(opts: {
  venv: string;
  headDir: string;
  baseDir: string;
  env: Record<string, string | undefined>;
}): Promise<{ parallelMs: number; sequentialMs: number }> {
  const env = venvEnv(opts.venv, opts.env);
  const parallelStarted = performance.now();
  await Promise.all([
    run(['python', 'demo.py'], { cwd: opts.headDir, env }),
    run(['python', 'demo.py'], { cwd: opts.baseDir, env }),
  ]);
  const parallelMs = performance.now() - parallelStarted;
  const sequentialStarted = performance.now();
  await run(['python', 'demo.py'], { cwd: opts.headDir, env });
  await run(['python', 'demo.py'], { cwd: opts.baseDir, env });
  return { parallelMs, sequentialMs: performance.now() - sequentialStarted };
}
