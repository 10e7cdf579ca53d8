// `pnpm bench [ingestion|e2e|scale|memory|sandbox ...]`: run the benchmarks (all by default), print
// their figures and write BENCHMARKS.md. BENCH_QUICK=1 makes every benchmark shorter.

import { chmod, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { buildApps } from '@evalbot/app-bundle';
import { REPO_ROOT } from '@evalbot/local-stack';
import { type BenchContext, pipIndexEnv } from './bench-context.ts';
import { updateBenchmarksFile } from './benchmarks-file.ts';
import { runEndToEnd } from './e2e.ts';
import { type GatewayMemory, runIngestion } from './ingestion.ts';
import { describeMachine } from './machine-info.ts';
import { runMemory } from './memory.ts';
import { busyShare, machineCpuTicks } from './process-cpu.ts';
import { runSandboxStep } from './sandbox-step.ts';
import { runScaleOut } from './scale-out.ts';
import { BENCHMARK_IDS, type BenchmarkId, type SectionResult } from './section.ts';

const requested = process.argv.slice(2);
const unknown = requested.filter((name) => !(BENCHMARK_IDS as readonly string[]).includes(name));
if (unknown.length > 0) {
  process.stderr.write(`unknown benchmark ${unknown.join(', ')}; choose from ${BENCHMARK_IDS.join(', ')}\n`);
  process.exit(2);
}
const selected = BENCHMARK_IDS.filter((id) => requested.length === 0 || requested.includes(id));
const quick = process.env.BENCH_QUICK === '1';
const runStarted = Date.now();
const pipEnv = pipIndexEnv(process.env);
for (const key of ['PIP_INDEX_URL', 'PIP_EXTRA_INDEX_URL', 'PIP_FIND_LINKS']) {
  const value = process.env[key];
  if (value) pipEnv[key] = value;
}
const ctx: BenchContext = {
  quick,
  tmpDir: await traversable(await mkdtemp(join(tmpdir(), 'evalbot-bench-'))),
  env: { ...process.env, ...pipEnv },
  pipEnv,
  log: (message) => {
    const elapsed = ((Date.now() - runStarted) / 1000).toFixed(0).padStart(4);
    process.stderr.write(`[bench ${elapsed}s] ${message}\n`);
  },
};

// The apps run as their images run them: the bundles, built from the tree as it is now.
ctx.log('building the app bundles (pnpm build)');
await buildApps();

/** The sandbox's uids reach the work and cache directories the benchmarks make below it. */
async function traversable(dir: string): Promise<string> {
  await chmod(dir, 0o711);
  return dir;
}

const sections: { section: SectionResult; header: string }[] = [];
const facts: Record<string, string> = {};
let gatewayMemory: GatewayMemory | undefined;
let workerIdleAfterWorkBytes: number | undefined;
let failed = false;

async function measure(id: BenchmarkId, title: string, run: () => Promise<SectionResult>) {
  // Other work on the machine skews every figure: look at how busy it is just before.
  const ticks = await machineCpuTicks();
  await sleep(3000);
  const busyBefore = busyShare(ticks, await machineCpuTicks());
  const started = Date.now();
  ctx.log(`${id}: starting (machine CPU ${Math.round(busyBefore * 100)} % busy in the 3 s before)`);
  let section: SectionResult;
  try {
    section = await run();
  } catch (error) {
    failed = true;
    ctx.log(`${id}: FAILED: ${(error as Error).stack ?? error}`);
    section = { id, title, markdown: `**The benchmark failed:** ${(error as Error).message}`, targets: [] };
  }
  const minutes = ((Date.now() - started) / 60_000).toFixed(1);
  const busy = busyBefore > 0.25 ? ' — other work was running, figures are pessimistic' : '';
  const header = `Measured ${new Date(started).toISOString().slice(0, 16).replace('T', ' ')} UTC, ${
    quick ? 'quick run (BENCH_QUICK=1)' : 'full run'
  }, in ${minutes} min; machine CPU ${Math.round(busyBefore * 100)} % busy in the 3 s before it${busy}.`;
  Object.assign(facts, section.facts);
  sections.push({ section, header });
  process.stdout.write(`\n## ${section.title}\n\n${header}\n\n${section.markdown}\n`);
}

try {
  if (selected.includes('ingestion')) {
    await measure('ingestion', 'Ingestion', async () => {
      const result = await runIngestion(ctx);
      gatewayMemory = result.gatewayMemory;
      return result.section;
    });
  }
  if (selected.includes('e2e')) {
    await measure('e2e', 'End to end', async () => {
      const result = await runEndToEnd(ctx);
      workerIdleAfterWorkBytes = result.workerIdleAfterWorkBytes;
      return result.section;
    });
  }
  if (selected.includes('scale')) await measure('scale', 'Scale-out', () => runScaleOut(ctx));
  if (selected.includes('memory')) {
    await measure('memory', 'Memory', () =>
      runMemory(ctx, {
        ...(gatewayMemory ? { gatewayMemory } : {}),
        ...(workerIdleAfterWorkBytes ? { workerIdleAfterWorkBytes } : {}),
      }),
    );
  }
  if (selected.includes('sandbox'))
    await measure('sandbox', 'Sandbox cost per step', () => runSandboxStep(ctx));
  const machine = describeMachine({
    ...facts,
    date: new Date(runStarted).toISOString().slice(0, 10),
  });
  await updateBenchmarksFile(join(REPO_ROOT, 'BENCHMARKS.md'), machine, sections);
  process.stdout.write('\nTargets:\n');
  for (const { section } of sections) {
    for (const t of section.targets) {
      process.stdout.write(
        `  ${t.met ? 'met   ' : 'MISSED'}  ${section.id}: ${t.name}: ${t.measured} (${t.target})\n`,
      );
    }
  }
  ctx.log(`done in ${((Date.now() - runStarted) / 60_000).toFixed(1)} min; wrote BENCHMARKS.md`);
} finally {
  if (process.env.BENCH_KEEP_TMP === '1') ctx.log(`kept ${ctx.tmpDir} (BENCH_KEEP_TMP=1)`);
  else await rm(ctx.tmpDir, { recursive: true, force: true });
}
// Load generators and Redis clients may keep handles open; the figures are written.
process.exit(failed ? 1 : 0);
