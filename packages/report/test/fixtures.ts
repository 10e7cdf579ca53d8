import type { RunResult, SideFailure, SideOutcome, SideSuccess } from '@evalbot/jobs';
import { parseRepoConfig, type RepoConfig } from '@evalbot/repo-config';
import type { BuildReportInput } from '../src/index.ts';
import type { HistoryEntry } from '../src/report-history.ts';

export const REPO_URL = 'https://github.com/octo-org/mnist-demo';
export const HEAD_SHA = 'abc1234f5e6d7c8b9a0f1e2d3c4b5a6978695a4b';
export const BASE_SHA = 'def5678a9b0c1d2e3f4a5b6c7d8e9f0a1b2c3d4e';
/** The fixed clock of every golden. */
export const NOW = new Date('2025-06-01T12:00:00Z');

const ENVIRONMENT = {
  python: '3.11.2',
  packages: { 'tensorflow-cpu': '2.21.0', keras: '3.15.0', numpy: '2.2.6' },
};

export function run(
  metrics: Record<string, number>,
  seed = 42,
  history: Record<string, number[]> = {},
): RunResult {
  return { seed, metrics, history, durationMs: 41_250 };
}

export function succeeded(sha: string, runs: RunResult[], extra: Partial<SideSuccess> = {}): SideSuccess {
  return {
    ok: true,
    sha,
    runs,
    durations: { clone: 1_240, config: 12, setup: 18_400, run: 41_250 * runs.length, metrics: 8 },
    logTail: 'Epoch 3/3\n1875/1875 - 4s - loss: 0.1234 - accuracy: 0.9753\n',
    environment: ENVIRONMENT,
    environmentReused: true,
    resultReused: false,
    ...extra,
  };
}

export function failed(
  sha: string,
  stage: SideFailure['stage'],
  message: string,
  logTail: string,
  durations: SideFailure['durations'] = {
    clone: 1_100,
    config: 10,
    setup: 21_000,
    run: stage === 'run' ? 12_345 : undefined,
  },
): SideFailure {
  return {
    ok: false,
    sha,
    stage,
    message,
    logTail,
    durations,
    environment: ENVIRONMENT,
    environmentReused: false,
    resultReused: false,
    runs: [],
  };
}

export function config(yaml?: string): RepoConfig {
  return parseRepoConfig(yaml);
}

export function input(
  head: SideOutcome,
  base: SideOutcome,
  overrides: Partial<BuildReportInput> = {},
): BuildReportInput {
  return { pr: { repoHtmlUrl: REPO_URL }, head, base, baseConfig: config(), now: NOW, ...overrides };
}

/** Two earlier runs, as a previous comment would have embedded them. */
export const EARLIER_RUNS: HistoryEntry[] = [
  {
    headSha: '1111111aaaaaaaabbbbbbbbccccccccdddddddd',
    baseSha: BASE_SHA,
    at: '2025-05-31T09:15:00.000Z',
    conclusion: 'failure',
    summary: 'accuracy −1.80 pts — fails: accuracy 1.80 pts worse (limit 0.50 pts)',
    metrics: { accuracy: 0.9323, loss: 0.2301 },
    ratios: ['accuracy'],
  },
  {
    headSha: '2222222aaaaaaaabbbbbbbbccccccccdddddddd',
    baseSha: BASE_SHA,
    at: '2025-05-31T16:40:00.000Z',
    conclusion: 'success',
    summary: 'accuracy +0.40 pts — passes',
    metrics: { accuracy: 0.9543, loss: 0.1602 },
    ratios: ['accuracy'],
  },
];

/** A traceback as a failing `python3 demo.py` prints it, with a token and backticks to escape. */
export const TRACEBACK_LOG = [
  'Epoch 1/3',
  '\r 100/1875 [>....] - ETA: 40s - loss: 2.1\r1875/1875 [==============================] - 5s 2ms/step - loss: 0.2961 - accuracy: 0.9143',
  'Using token ghs_abcdefghijklmnopqrstuvwxyz0123456789 for the dataset mirror',
  'Docs say: ```python model.fit(x)``` and ```` four ````',
  'Traceback (most recent call last):',
  '  File "/tmp/evalbot/head/demo.py", line 42, in <module>',
  '    model.fit(x_train, y_train, epochs=EPOCHS)',
  '  File "/tmp/evalbot/head/demo.py", line 17, in build',
  '    raise ValueError(\'Input 0 of layer "dense" is incompatible: expected shape=(None, 784), found shape=(None, 28, 28)\')',
  'ValueError: Input 0 of layer "dense" is incompatible: expected shape=(None, 784), found shape=(None, 28, 28)',
  '</details> <script>alert(1)</script>',
].join('\n');
