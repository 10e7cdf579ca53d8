import { spawn } from 'node:child_process';
import { createSandbox } from '@evalbot/evaluator';
import type { BenchContext } from './bench-context.ts';
import { type SectionResult, table } from './section.ts';
import { median } from './stats.ts';

/** One command, timed from spawn to exit, `runs` times; milliseconds. */
async function timeRuns(argv: string[], runs: number, env: Record<string, string>): Promise<number[]> {
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    const [file, ...args] = argv as [string, ...string[]];
    const started = process.hrtime.bigint();
    // fd 3 as the evaluator gives it: bubblewrap writes its init's pid there.
    const child = spawn(file, args, { env, stdio: ['ignore', 'ignore', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr?.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    (child.stdio[3] as NodeJS.ReadableStream | null)?.resume();
    const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
    if (code !== 0) throw new Error(`${argv.join(' ')} failed (${code}): ${stderr}`);
    times.push(Number(process.hrtime.bigint() - started) / 1e6);
  }
  return times;
}

/**
 * What the sandbox costs per step: the same command started plainly and through the whole
 * chain a step takes (cgroup, prlimit, setpriv, bubblewrap with every namespace and mount),
 * one after the other on an idle machine. A job runs 1 + `setup` + `repeats` sandboxed steps
 * (and one more to read package versions when setup ran), plus the environment's install.
 */
export async function runSandboxStep(ctx: BenchContext): Promise<SectionResult> {
  const runs = ctx.quick ? 10 : 40;
  const sandbox = await createSandbox();
  const identity = await sandbox.leaseIdentity();
  const env = { PATH: '/usr/local/bin:/usr/bin:/bin', LANG: 'C.UTF-8' };
  const python = process.env.EVALBOT_PYTHON ?? '/usr/bin/python3';
  const rows: (string | number)[][] = [];
  try {
    for (const [label, argv] of [
      ['`sh -c true`', ['/bin/sh', '-c', 'true']],
      ['`python3 -c pass`', [python, '-c', 'pass']],
    ] as const) {
      ctx.log(`sandbox: ${label} plain and sandboxed, ${runs} runs each`);
      const plain = await timeRuns([...argv], runs, env);
      const sandboxed: number[] = [];
      for (let i = 0; i < runs; i++) {
        const command = await sandbox.command([...argv], { readOnly: [], writable: [], cwd: '/' }, identity);
        sandboxed.push(...(await timeRuns(command.argv, 1, env)));
        await command.cgroup?.remove();
      }
      const [p, s] = [median(plain), median(sandboxed)];
      rows.push([label, runs, `${p.toFixed(1)} ms`, `${s.toFixed(1)} ms`, `+${(s - p).toFixed(1)} ms`]);
    }
  } finally {
    await identity.release();
  }
  return {
    id: 'sandbox',
    title: 'Sandbox cost per step',
    markdown: [
      `Each command started ${runs} times plainly, then ${runs} times through the chain every step from a repository takes (${sandbox.description}); medians, spawn to exit. A job runs one sandboxed step per \`setup\` command and per repeat of \`run\`, one to read package versions when setup ran, and one \`pip install\` when its environment is built; the cost of each is this difference.`,
      '',
      table(['command', 'runs', 'plain', 'sandboxed', 'cost per step'], rows),
    ].join('\n'),
    targets: [],
  };
}
