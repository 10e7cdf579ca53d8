import { execFileSync } from 'node:child_process';
import { mkdir, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import {
  demoWithLearningRate,
  ML_DEMO_DIR,
  openMlDemoPullRequest,
  startLocalStack,
  waitFor,
} from '@evalbot/local-stack';
import { deliverAndAwaitReport, type LoggedSide, loggedSides } from './await-report.ts';
import type { BenchContext } from './bench-context.ts';
import { type ByHandResult, runByHand, timeTrainings } from './by-hand-baseline.ts';
import { readRss } from './process-rss.ts';
import {
  type BenchPullRequest,
  createPublicDemoRepo,
  labeledDelivery,
  openAnotherPullRequest,
  pushToPullRequest,
} from './pull-requests.ts';
import { type SectionResult, type TargetResult, table, targetsTable } from './section.ts';
import { median, ratio, seconds } from './stats.ts';

const REPORT_TIMEOUT_MS = 10 * 60_000;
const AUTHOR = 'mona';

type Scenario = 'cold' | 'warm' | 'warm base' | 'docs-only push' | 'requirement bump';
const SCENARIOS: Scenario[] = ['cold', 'warm', 'warm base', 'docs-only push', 'requirement bump'];
/** The base config of the warm repository: documentation is not part of what is evaluated. */
const IGNORE_DOCS = 'ignore:\n  - docs/**\n  - "*.md"\n';

interface Measurement {
  scenario: Scenario;
  workers: number;
  ms: number;
  sides: LoggedSide[];
}

export interface EndToEndResult {
  section: SectionResult;
  /** Largest worker RSS a few seconds after its last evaluation, for the memory section. */
  workerIdleAfterWorkBytes: number;
}

const SCENARIO_TEXT: Record<Scenario, string> = {
  cold: 'cold: empty cache directory (no environment; pip cache empty too)',
  warm: 'warm environment (new repository, so no base result to reuse)',
  'warm base': 'warm base cache (2nd PR, same base, new head)',
  'docs-only push': 'documentation-only push to the warm PR (both results reused)',
  'requirement bump': 'requirement bump (3rd PR: one package added; environment derived)',
};

function stage(sides: LoggedSide[], side: 'head' | 'base', name: string): number | undefined {
  return sides.find((s) => s.side === side)?.durations[name];
}

function sideTotal(sides: LoggedSide[], side: 'head' | 'base'): number {
  const found = sides.find((s) => s.side === side);
  return found ? Object.values(found.durations).reduce((a, b) => a + b, 0) : 0;
}

function tensorflowVersion(venv: string): string {
  try {
    return execFileSync(
      join(venv, 'bin', 'python'),
      [
        '-c',
        "import importlib.metadata as m; print(f\"tensorflow-cpu {m.version('tensorflow-cpu')}, keras {m.version('keras')}\")",
      ],
      { encoding: 'utf8' },
    ).trim();
  } catch {
    return 'unknown';
  }
}

/**
 * A labeled PR on a copy of `ml-demo` through gateway, Redis and workers (real processes) to
 * the report comment — cold, warm, and with the base result cached, with one and two workers —
 * against the tutorial's way by hand and against the two trainings alone (the floor).
 */
export async function runEndToEnd(ctx: BenchContext): Promise<EndToEndResult> {
  const repeats = ctx.quick ? 1 : 2;
  const logDir = join(ctx.tmpDir, 'e2e-logs');
  await mkdir(logDir, { recursive: true });
  const stack = await startLocalStack({
    workers: 0,
    cacheDir: join(ctx.tmpDir, 'e2e-unused-cache'),
    logDir,
    workerEnv: ctx.pipEnv,
    runtime: 'bundle',
  });
  try {
    const repo = await createPublicDemoRepo(stack.sim, 'by-hand', 'mnist-demo');
    const byHand: ByHandResult[] = [];
    const floors: { parallelMs: number; sequentialMs: number }[] = [];
    const measurements: Measurement[] = [];
    let tensorflow = 'unknown';
    let workerIdleAfterWorkBytes = 0;
    const measure = async (
      scenario: Scenario,
      workers: number,
      pr: BenchPullRequest,
      delivery = labeledDelivery(stack.sim, pr),
    ) => {
      const { ms } = await deliverAndAwaitReport(stack, pr, delivery, REPORT_TIMEOUT_MS);
      // Untimed: the next scenario starts once this one's last write (the check run, after the
      // comment) is done, so Octokit's pacing of this evaluation's writes is not timed there.
      await waitFor(
        () => stack.sim.checkRuns(pr.owner, pr.repo, pr.headSha).some((c) => c.status === 'completed'),
        { timeoutMs: 30_000, intervalMs: 25, what: `the check run of ${pr.owner}/${pr.repo}#${pr.number}` },
      );
      const trained = { cold: 2, warm: 2, 'warm base': 1, 'docs-only push': 0, 'requirement bump': 1 };
      const sides = await loggedSides(logDir, delivery.id, trained[scenario]);
      measurements.push({ scenario, workers, ms, sides });
      ctx.log(`e2e: ${scenario}, ${workers} worker(s): ${seconds(ms)}`);
    };
    const demoPullRequest = async (
      owner: string,
      baseFiles?: Record<string, string>,
    ): Promise<BenchPullRequest> => {
      const pr = await openMlDemoPullRequest(stack.sim, {
        owner,
        repo: 'mnist-demo',
        author: AUTHOR,
        ...(baseFiles ? { baseFiles } : {}),
      });
      return { ...pr, author: AUTHOR };
    };
    // One round of everything per repeat, so a burst of other load on the machine does not
    // land on one kind of measurement only.
    for (let r = 1; r <= repeats; r++) {
      const workDir = join(ctx.tmpDir, `by-hand-${r}`);
      ctx.log(`e2e: round ${r}/${repeats}: by hand`);
      const env = { ...ctx.env, PIP_CACHE_DIR: join(workDir, 'pip-cache') };
      // The interpreter the workers use (EVALBOT_PYTHON), so both sides train on the same Python.
      byHand.push(
        await runByHand({
          repoUrl: repo.cloneUrl,
          ...repo,
          workDir,
          env,
          ...(process.env.EVALBOT_PYTHON ? { python: process.env.EVALBOT_PYTHON } : {}),
        }),
      );
      ctx.log(`e2e: by hand: ${seconds(byHand.at(-1)?.totalMs ?? Number.NaN)}`);
      tensorflow = tensorflowVersion(join(workDir, 'venv'));
      ctx.log(`e2e: round ${r}/${repeats}: the two trainings at once, then one after the other`);
      floors.push(
        await timeTrainings({
          venv: join(workDir, 'venv'),
          headDir: join(workDir, 'head'),
          baseDir: join(workDir, 'base'),
          env: ctx.env,
        }),
      );
      ctx.log(`e2e: floor: ${seconds(floors.at(-1)?.parallelMs ?? Number.NaN)}`);
      await rm(workDir, { recursive: true, force: true });

      for (const workers of [1, 2]) {
        const cacheDir = join(ctx.tmpDir, `e2e-cache-${workers}-${r}`);
        await mkdir(cacheDir, { recursive: true });
        ctx.log(`e2e: round ${r}/${repeats}: ${workers} worker(s) on an empty cache directory`);
        const started = await Promise.all(
          Array.from({ length: workers }, () => stack.addWorker({ EVALBOT_CACHE_DIR: cacheDir })),
        );
        await measure('cold', workers, await demoPullRequest(`cold-${workers}-${r}`));
        const warm = await demoPullRequest(`warm-${workers}-${r}`, { '.evalbot.yml': IGNORE_DOCS });
        await measure('warm', workers, warm);
        const again = await openAnotherPullRequest(stack.sim, warm, 'lower-learning-rate', {
          'demo.py': await demoWithLearningRate('0.004'),
        });
        await measure('warm base', workers, again);
        const docs = await pushToPullRequest(stack.sim, warm, 'tune-learning-rate', {
          'docs/tuning.md': '# Why 0.005\n',
        });
        await measure('docs-only push', workers, docs.pr, docs.delivery);
        const requirements = await readFile(join(ML_DEMO_DIR, 'requirements.txt'), 'utf8');
        const bump = await openAnotherPullRequest(stack.sim, warm, 'add-a-package', {
          'requirements.txt': `${requirements}toml==0.10.*\n`,
        });
        await measure('requirement bump', workers, bump);
        for (const worker of started) {
          workerIdleAfterWorkBytes = Math.max(workerIdleAfterWorkBytes, (await readRss(worker.pid)) ?? 0);
        }
        await Promise.all(started.map((w) => w.stop()));
        await rm(cacheDir, { recursive: true, force: true });
      }
    }
    return {
      section: summarize(byHand, floors, measurements, tensorflow, repeats),
      workerIdleAfterWorkBytes,
    };
  } finally {
    await stack.close();
  }
}

function summarize(
  byHand: ByHandResult[],
  floors: { parallelMs: number; sequentialMs: number }[],
  measurements: Measurement[],
  tensorflow: string,
  repeats: number,
): SectionResult {
  const byHandMs = median(byHand.map((b) => b.totalMs));
  const floorMs = median(floors.map((f) => f.parallelMs));
  const sequentialMs = median(floors.map((f) => f.sequentialMs));
  const stepNames = byHand[0]?.steps.map((s) => s.step) ?? [];
  const stepMedian = (name: string) =>
    median(byHand.map((b) => b.steps.find((s) => s.step === name)?.ms ?? Number.NaN));
  const runs = (values: number[]) => values.map(seconds).join(', ');
  const of = (scenario: Scenario, workers: number) =>
    measurements.filter((m) => m.scenario === scenario && m.workers === workers);
  const medianOf = (scenario: Scenario, workers: number) => median(of(scenario, workers).map((m) => m.ms));
  const stageMedian = (group: Measurement[], side: 'head' | 'base', name: string) => {
    const values = group.map((m) => stage(m.sides, side, name)).filter((v): v is number => v !== undefined);
    return values.length === 0 ? '—' : seconds(median(values));
  };

  const rows: (string | number)[][] = [
    [
      'by hand: clone both, fresh venv + `pip install`, train head then base',
      '—',
      runs(byHand.map((b) => b.totalMs)),
      seconds(byHandMs),
      '1.00×',
      ratio(byHandMs / floorMs),
    ],
    [
      'floor: the two trainings started at the same time (ready venv)',
      '—',
      runs(floors.map((f) => f.parallelMs)),
      seconds(floorMs),
      ratio(floorMs / byHandMs),
      '1.00×',
    ],
    [
      'the two trainings one after the other (ready venv)',
      '—',
      runs(floors.map((f) => f.sequentialMs)),
      seconds(sequentialMs),
      ratio(sequentialMs / byHandMs),
      ratio(sequentialMs / floorMs),
    ],
  ];
  const breakdown: (string | number)[][] = [];
  for (const scenario of SCENARIOS) {
    for (const workers of [1, 2]) {
      const group = of(scenario, workers);
      const ms = medianOf(scenario, workers);
      rows.push([
        `evalbot, ${SCENARIO_TEXT[scenario]}`,
        workers,
        runs(group.map((m) => m.ms)),
        seconds(ms),
        ratio(ms / byHandMs),
        ratio(ms / floorMs),
      ]);
      const outside = median(
        group.map((m) => {
          const head = sideTotal(m.sides, 'head');
          const base = sideTotal(m.sides, 'base');
          return m.ms - (workers === 1 ? head + base : Math.max(head, base));
        }),
      );
      breakdown.push([
        scenario,
        workers,
        seconds(ms),
        stageMedian(group, 'head', 'clone'),
        stageMedian(group, 'head', 'setup'),
        stageMedian(group, 'head', 'run'),
        stageMedian(group, 'base', 'clone'),
        group.every((m) => !m.sides.some((s) => s.side === 'base'))
          ? 'reused'
          : stageMedian(group, 'base', 'setup'),
        stageMedian(group, 'base', 'run'),
        seconds(outside),
      ]);
    }
  }
  const warmTwo = medianOf('warm', 2);
  const baseTwo = medianOf('warm base', 2);
  const docsTwo = medianOf('docs-only push', 2);
  const setupOf = (scenario: Scenario) =>
    median(
      of(scenario, 2)
        .map((m) => stage(m.sides, 'head', 'setup'))
        .filter((v): v is number => v !== undefined),
    );
  const derivedSetup = setupOf('requirement bump');
  const coldSetup = setupOf('cold');
  const targets: TargetResult[] = [
    {
      name: 'warm environment, 2 workers / floor',
      measured: ratio(warmTwo / floorMs),
      target: '≤ 1.10×',
      met: warmTwo / floorMs <= 1.1,
    },
    {
      name: 'warm base cache (2 workers) / by hand',
      measured: ratio(baseTwo / byHandMs),
      target: '≤ 0.55×',
      met: baseTwo / byHandMs <= 0.55,
    },
    {
      name: 'documentation-only push (2 workers) / warm evaluation',
      measured: ratio(docsTwo / warmTwo),
      target: '≤ 0.10×',
      met: docsTwo / warmTwo <= 0.1,
    },
    {
      name: 'requirement bump: derived environment / cold build (head setup, 2 workers)',
      measured: ratio(derivedSetup / coldSetup),
      target: '≤ 0.35×',
      met: derivedSetup / coldSetup <= 0.35,
    },
  ];
  const markdown = [
    `From sending the signed \`pull_request\` \`labeled\` delivery to the gateway until the final report comment is on the PR (polled every 25 ms in the stand-in), on a copy of \`ml-demo\` whose head raises the learning rate. Gateway, Redis (AOF, \`appendfsync always\`, as \`startLocalStack\` runs it) and workers are real processes (\`startLocalStack\`, the bundles \`pnpm build\` writes, as the images run them); GitHub is the stand-in, in the bench process. Workers start before the clock does. Median of ${repeats} run(s) each; every run in the row is listed. ${tensorflow}.`,
    '',
    '*Cold*: each run gets a new, empty `EVALBOT_CACHE_DIR` (so no cached venv and an empty pip cache, which lives inside it); with the `file://` wheel indexes used here pip installs straight from the wheel files, so an empty pip cache costs nothing extra. *Warm*: the same workers right after, on a new repository (its base was never evaluated). *Warm base*: a second PR on that repository (new head, same base): the base side reuses the stored result. *Documentation-only push*: a push of `docs/tuning.md` to the warm PR, whose base `.evalbot.yml` has `ignore: [docs/**, "*.md"]`: both sides reuse the results of the same content (compared with a warm evaluation, the cost before). *Requirement bump*: a third PR on that repository adding `toml` to `requirements.txt`: its environment is derived from the cached one (hard links, or a copy for a non-root worker, + the one package) instead of built (compared with the head setup of a cold build, the cost before); the base result is reused. Each scenario starts once the check run of the one before is completed (its last write). *By hand* (`bench/by-hand-baseline.ts`, plain git + python): `git clone --depth=1` head and base, `python3 -m venv`, `pip install -r requirements.txt` (a fresh, empty `PIP_CACHE_DIR` each run; the base has the same requirements so they are installed once), then `python demo.py` in head and then in base.',
    '',
    table(['scenario', 'workers', 'runs', 'median', 'vs by hand', 'vs floor'], rows),
    '',
    `By hand, step medians: ${stepNames.map((n) => `${n} ${seconds(stepMedian(n))}`).join(' · ')}.`,
    '',
    "**Where the time goes** (medians; stages as the workers log them in `side evaluated`; *setup* = environment: venv + `pip install` or the cached one + the job's thin layer; *run* = `python3 demo.py`, TensorFlow import included; *outside the sides* = total minus the side(s) on the critical path: queueing, job pick-up, the ⏳ comment and check run, the final comment and check-run writes)",
    '',
    table(
      [
        'scenario',
        'workers',
        'total',
        'head clone',
        'head setup',
        'head run',
        'base clone',
        'base setup',
        'base run',
        'outside the sides',
      ],
      breakdown,
    ),
    '',
    targetsTable(targets),
  ].join('\n');
  return { id: 'e2e', title: 'End to end', markdown, targets, facts: { TensorFlow: tensorflow } };
}
