import { processesWithCmdline, rootSkipReason, titleSkippedIf } from '@evalbot/test-utils';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  deliverOk,
  fixtureFile,
  GOOD_REPORT,
  jobsOfPullRequest,
  openGoodPullRequest,
  openTinyPullRequest,
  type TinyPullRequest,
  tinyConfig,
  uniqueMarker,
  useFaultStack,
  waitForReport,
} from './fault-stack.ts';
import {
  expectNoSecretShown,
  expectNothingLeftBehind,
  expectOneReport,
  residentBytes,
} from './invariants.ts';

// Hostile pull requests, all opened at once on one stack of two workers (as a busy
// installation would see them), then a good one: the workers must survive every one, report
// what went wrong, leak nothing and leave nothing running.

const TIME_LIMIT_MINUTES = 0.1; // 6 s: `timeout_minutes` takes fractions
// Longer for the flood: what the worker reads in a given time depends on what else the machine
// runs (87 MB in 6 s under CI's parallel test files, 1 GB alone), and it must read much more
// than it could keep for the memory bound to mean anything.
const FLOOD_TIME_LIMIT_MINUTES = 0.25; // 15 s
const MAX_WORKER_RSS = 500 * 1024 * 1024;
const noRoot = rootSkipReason();

interface HostileCase {
  repo: string;
  headFiles: () => Promise<Record<string, string>>;
  baseFiles?: () => Promise<Record<string, string>>;
  marker?: string;
}

const markers = { forkMany: uniqueMarker(), hang: uniqueMarker() };
const hugeComment = `# ${'padding '.repeat(120)}\n`;
const cases = {
  forkMany: {
    repo: 'fork-many',
    marker: markers.forkMany,
    headFiles: async () => ({
      'demo.py': await fixtureFile('hostile/fork-many.py'),
      '.evalbot.yml': tinyConfig({ marker: markers.forkMany }),
    }),
  },
  flood: {
    repo: 'output-flood',
    headFiles: async () => ({
      'flood.sh': await fixtureFile('hostile/flood.sh'),
      '.evalbot.yml': tinyConfig({ run: 'sh flood.sh', timeoutMinutes: FLOOD_TIME_LIMIT_MINUTES }),
    }),
  },
  hang: {
    repo: 'never-exits',
    marker: markers.hang,
    headFiles: async () => ({
      'demo.py': await fixtureFile('hostile/hang.py'),
      '.evalbot.yml': tinyConfig({ marker: markers.hang, timeoutMinutes: TIME_LIMIT_MINUTES }),
    }),
  },
  symlinkFile: {
    repo: 'metrics-symlink',
    headFiles: async () => ({ 'demo.py': await fixtureFile('hostile/symlink-metrics.py') }),
  },
  symlinkDir: {
    repo: 'metrics-dir-symlink',
    headFiles: async () => ({
      'demo.py': await fixtureFile('hostile/symlink-metrics.py'),
      '.evalbot.yml': 'run: python3 demo.py dir\nmetrics_file: out/environ\n',
    }),
  },
  secretProbe: {
    // Both sides probe: the base succeeds (what it found would be metric names), the head fails
    // (what it found would be in the log tail).
    repo: 'secret-probe',
    baseFiles: async () => ({ 'demo.py': await fixtureFile('hostile/secret-probe.py') }),
    headFiles: async () => ({ 'demo.py': `${await fixtureFile('hostile/secret-probe.py')}\n# head\n` }),
  },
  hugeConfig: {
    repo: 'huge-config',
    headFiles: async () => ({ '.evalbot.yml': `run: python3 demo.py\n${hugeComment.repeat(70)}` }),
  },
  badYaml: {
    repo: 'bad-yaml',
    headFiles: async () => ({
      '.evalbot.yml': 'run: python3 demo.py\nsetup: [pip install numpy\nrepeats: 2\n',
    }),
  },
  unknownKeys: {
    repo: 'unknown-keys',
    headFiles: async () => ({ '.evalbot.yml': 'run: python3 demo.py\ntimeout: 5\nmetric_file: out.json\n' }),
  },
} satisfies Record<string, HostileCase>;
type CaseName = keyof typeof cases;

const fault = useFaultStack();
let workerPids: number[];
const prs = {} as Record<CaseName, TinyPullRequest>;
const reports = {} as Record<CaseName, ReturnType<typeof waitForReport>>;
/** Settles once every hostile PR is reported: the work directories are then shared by none. */
let allReported: Promise<unknown>;
let peakRss = 0;
/** The workers' largest RSS once started, before any delivery. */
let startRss = 0;
let peakForkManyProcesses = 0;
let forkManyReported = false;
let sampling = true;
let sampler: Promise<void> | undefined;

beforeAll(async () => {
  workerPids = fault.stack.workers.map((w) => w.pid);
  startRss = Math.max(...(await Promise.all(workerPids.map(residentBytes))));
  for (const [name, spec] of Object.entries(cases) as [CaseName, HostileCase][]) {
    prs[name] = await openTinyPullRequest(fault.stack, {
      repo: spec.repo,
      headFiles: await spec.headFiles(),
      ...(spec.baseFiles ? { baseFiles: await spec.baseFiles() } : {}),
    });
  }
  sampler = (async () => {
    while (sampling) {
      const sizes = await Promise.all(workerPids.map(residentBytes));
      peakRss = Math.max(peakRss, ...sizes);
      if (!forkManyReported) {
        const forked = await processesWithCmdline(markers.forkMany);
        peakForkManyProcesses = Math.max(peakForkManyProcesses, forked.length);
      }
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  })();
  for (const name of Object.keys(cases) as CaseName[]) {
    const pr = prs[name];
    await deliverOk(fault.stack, pr.labeledDelivery());
    reports[name] = waitForReport(fault, pr, pr.headSha, { timeoutMs: 120_000 });
    // Each test awaits its own; this keeps an early failure from being reported as unhandled.
    reports[name].catch(() => {});
  }
  allReported = Promise.allSettled(Object.values(reports));
  const forkManyDone = () => {
    forkManyReported = true;
  };
  reports.forkMany.then(forkManyDone, forkManyDone);
}, 180_000);

afterAll(async () => {
  sampling = false;
  await sampler;
});

/** The head's failure as the PR comment shows it: `failed at <stage>` and the message. */
function headFailure(body: string): string {
  const summary = /❌ <b>Head<\/b>.*?failed at <b>([^<]+)<\/b>/.exec(body);
  return summary?.[1] ?? '(no head failure in the comment)';
}

// Each test first waits for every hostile PR's report (they run together).
describe('a hostile pull request', { timeout: 180_000 }, () => {
  it('that leaves 300 processes behind, some in sessions of their own, gets them all killed', async () => {
    await allReported;
    await reports.forkMany;
    const body = await expectOneReport(fault, prs.forkMany, prs.forkMany.headSha, { conclusion: 'neutral' });
    expect(body).toContain('accuracy');
    const [head] = (await jobsOfPullRequest(fault.queues.evaluate, prs.forkMany, ['completed'])).filter(
      (j) => j.data.side === 'head',
    );
    expect(head?.returnvalue?.logTail).toContain('started 300 background processes');
    // They did run (seen while sampling); none is left.
    expect(peakForkManyProcesses).toBeGreaterThan(0);
    await expectNothingLeftBehind(fault, [markers.forkMany]);
  });

  it('that floods its output is stopped at its time limit; the worker’s memory stays bounded and the comment shows the tail', async () => {
    await allReported;
    await reports.flood;
    const body = await expectOneReport(fault, prs.flood, prs.flood.headSha, { conclusion: 'failure' });
    expect(headFailure(body)).toBe('run');
    expect(body).toContain('<code>sh flood.sh</code> timed out after 15 s (timeout_minutes: 0.25;');
    expect(body).toMatch(/Last \d+ lines of output/);
    expect(body).toContain('flood 0000000000');
    // The evaluator counts the lines it did not keep (the comment has room for fewer lines).
    const [head] = (await jobsOfPullRequest(fault.queues.evaluate, prs.flood, ['completed'])).filter(
      (j) => j.data.side === 'head',
    );
    const dropped = Number(/\((\d+) earlier lines not kept\)/.exec(head?.returnvalue?.logTail)?.[1] ?? 0);
    const floodBytes = dropped * 'flood \n'.length + dropped * 1000;
    console.info(
      `output flood: ${(floodBytes / 1e9).toFixed(2)} GB read in 15 s; peak worker RSS ${(peakRss / 1e6).toFixed(0)} MB (${(startRss / 1e6).toFixed(0)} MB at start)`,
    );
    // Enough that keeping it would have grown the worker by more than it read.
    expect(floodBytes).toBeGreaterThan(100 * 1024 * 1024);
    expect(startRss).toBeGreaterThan(0);
    expect(peakRss - startRss).toBeLessThan(floodBytes);
    expect(peakRss).toBeLessThan(MAX_WORKER_RSS);
    await expectNothingLeftBehind(fault, ['flood 0000']);
  });

  it('that never exits and ignores SIGTERM is killed at its time limit', async () => {
    await allReported;
    await reports.hang;
    const body = await expectOneReport(fault, prs.hang, prs.hang.headSha, { conclusion: 'failure' });
    expect(headFailure(body)).toBe('run');
    expect(body).toContain('timed out after 6 s (timeout_minutes: 0.1; the limit covers setup and run)');
    expect(body).toContain('training forever, ignoring SIGTERM');
    await expectNothingLeftBehind(fault, [markers.hang]);
  });

  it('whose metrics file is a symbolic link to the worker’s environment has it refused', async () => {
    await allReported;
    await reports.symlinkFile;
    const pr = prs.symlinkFile;
    const body = await expectOneReport(fault, pr, pr.headSha, { conclusion: 'failure' });
    expect(headFailure(body)).toBe('metrics');
    expect(body).toContain('is a symbolic link; evalbot reads only regular files');
  });

  it('whose metrics file lies in a directory linked outside the checkout has it refused', async () => {
    await allReported;
    await reports.symlinkDir;
    const pr = prs.symlinkDir;
    const body = await expectOneReport(fault, pr, pr.headSha, { conclusion: 'failure' });
    expect(headFailure(body)).toBe('metrics');
    expect(body).toContain('resolves outside the directory');
  });

  it.skipIf(noRoot !== undefined)(
    titleSkippedIf(
      'that searches the machine for secrets finds none, and none reaches GitHub, Redis or the logs',
      noRoot,
    ),
    async () => {
      await allReported;
      await reports.secretProbe;
      const pr = prs.secretProbe;
      const body = await expectOneReport(fault, pr, pr.headSha, { conclusion: 'failure' });
      expect(headFailure(body)).toBe('run');
      expect(body).toContain('exited with code 3');
      expect(body).toMatch(/secret-probe: read \d+ sources/);
      // In its own pid namespace, pid 1 is the sandbox's init and its ancestors end there: the
      // worker (App key, REDIS_URL in its environment) is not even visible.
      expect(body).toContain('secret-probe: /proc/1/environ:');
      expect(workerPids.length).toBeGreaterThan(0);
      for (const pid of workerPids) expect(body).not.toContain(`/proc/${pid}/environ`);

      await expectNoSecretShown(fault.stack, Object.values(prs));
    },
  );

  it('with a .evalbot.yml over 64 KB gets a config failure naming the limit', async () => {
    await allReported;
    await reports.hugeConfig;
    const pr = prs.hugeConfig;
    const body = await expectOneReport(fault, pr, pr.headSha, { conclusion: 'failure' });
    expect(headFailure(body)).toBe('config (.evalbot.yml)');
    expect(body).toMatch(/is \d+ bytes, over the 65536-byte limit/);
  });

  it('with a .evalbot.yml that is not YAML gets a config failure quoting the parser', async () => {
    await allReported;
    await reports.badYaml;
    const pr = prs.badYaml;
    const body = await expectOneReport(fault, pr, pr.headSha, { conclusion: 'failure' });
    expect(headFailure(body)).toBe('config (.evalbot.yml)');
    expect(body).toContain('is not valid YAML');
  });

  it('with unknown keys in .evalbot.yml gets a config failure naming each key', async () => {
    await allReported;
    await reports.unknownKeys;
    const pr = prs.unknownKeys;
    const body = await expectOneReport(fault, pr, pr.headSha, { conclusion: 'failure' });
    expect(headFailure(body)).toBe('config (.evalbot.yml)');
    expect(body).toContain('<code>timeout</code>');
    expect(body).toContain(
      '<code>metric\\_file</code> | is not a known key | did you mean <code>metrics\\_file</code>?',
    );
  });
});

it('the workers that ran all of the above are the same processes and evaluate a good PR next', {
  timeout: 180_000,
}, async () => {
  await allReported;
  const { stack } = fault;
  expect(stack.workers.map((w) => w.child.exitCode)).toEqual(workerPids.map(() => null));
  expect(stack.workers.map((w) => w.pid)).toEqual(workerPids);

  const { pr, marker } = await openGoodPullRequest(stack, 'good-after-hostile');
  await deliverOk(stack, pr.labeledDelivery());
  await waitForReport(fault, pr, pr.headSha);
  const body = await expectOneReport(fault, pr, pr.headSha, { conclusion: 'neutral' });
  expect(body).toMatch(GOOD_REPORT);
  await expectNothingLeftBehind(fault, [marker, ...Object.values(markers)]);
  expect(await processesWithCmdline(marker)).toEqual([]);
});
