import { parseRepoConfig, type RepoConfigError } from '@evalbot/repo-config';
import { buildReport, renderPending } from '../src/index.ts';
import {
  BASE_SHA,
  config,
  EARLIER_RUNS,
  failed,
  HEAD_SHA,
  input,
  NOW,
  REPO_URL,
  run,
  succeeded,
  TRACEBACK_LOG,
} from './fixtures.ts';

const GATED = config(`
metrics:
  accuracy:
    fail_if_worse_by: 0.005
  loss:
    fail_if_worse_by_pct: 10
`);

function epochs(start: number, end: number, count: number): number[] {
  return Array.from({ length: count }, (_, i) =>
    Number((start + ((end - start) * i) / Math.max(1, count - 1)).toFixed(4)),
  );
}

/** Each golden file's name and how to render it; all use the fixed clock `NOW`. */
export const GOLDEN_CASES: { name: string; render: () => string }[] = [
  {
    name: 'improvement',
    render: () =>
      buildReport(
        input(
          succeeded(HEAD_SHA, [
            run({ accuracy: 0.9753, loss: 0.1234, val_accuracy: 0.9712, val_loss: 0.1402 }),
          ]),
          succeeded(
            BASE_SHA,
            [run({ accuracy: 0.9503, loss: 0.1712, val_accuracy: 0.9488, val_loss: 0.1841 })],
            {
              resultReused: true,
            },
          ),
          { baseConfig: GATED, previousRuns: EARLIER_RUNS },
        ),
      ).markdown,
  },
  {
    // A push that changed only ignored paths (docs): both sides' results reused, the head's
    // from the earlier head with the same content.
    name: 'docs-only-push-reused',
    render: () =>
      buildReport(
        input(
          succeeded(HEAD_SHA, [run({ accuracy: 0.9753, loss: 0.1234 })], {
            resultReused: true,
            resultReusedFrom: 'c0ffee1234567890c0ffee1234567890c0ffee12',
          }),
          succeeded(BASE_SHA, [run({ accuracy: 0.9503, loss: 0.1712 })], { resultReused: true }),
          { baseConfig: GATED },
        ),
      ).markdown,
  },
  {
    // A requirement added on the head: its environment derived from the base's cached one.
    name: 'requirement-bump-derived-env',
    render: () =>
      buildReport(
        input(
          succeeded(HEAD_SHA, [run({ accuracy: 0.9712, loss: 0.1301 })], {
            environmentReused: false,
            environmentDerivedFrom: 'py3.11.2-0123456789abcdef',
          }),
          succeeded(BASE_SHA, [run({ accuracy: 0.9701, loss: 0.1342 })]),
          { baseConfig: GATED },
        ),
      ).markdown,
  },
  {
    name: 'repeats-within-noise',
    render: () =>
      buildReport(
        input(
          succeeded(HEAD_SHA, [
            run({ accuracy: 0.9712, loss: 0.1301 }, 42),
            run({ accuracy: 0.9655, loss: 0.1388 }, 43),
            run({ accuracy: 0.9741, loss: 0.1262 }, 44),
          ]),
          succeeded(BASE_SHA, [
            run({ accuracy: 0.9748, loss: 0.1275 }, 42),
            run({ accuracy: 0.9701, loss: 0.1342 }, 43),
            run({ accuracy: 0.9733, loss: 0.129 }, 44),
          ]),
          { baseConfig: config('repeats: 3\nmetrics:\n  accuracy:\n    fail_if_worse_by: 0.001\n') },
        ),
      ).markdown,
  },
  {
    name: 'regression-fails-threshold',
    render: () =>
      buildReport(
        input(
          succeeded(HEAD_SHA, [run({ accuracy: 0.9612, loss: 0.1931 })]),
          succeeded(BASE_SHA, [run({ accuracy: 0.9753, loss: 0.1234 })]),
          { baseConfig: GATED },
        ),
      ).markdown,
  },
  {
    name: 'failed-head',
    render: () =>
      buildReport(
        input(
          failed(HEAD_SHA, 'run', '`python3 demo.py` exited with code 1 after 12 s', TRACEBACK_LOG),
          succeeded(BASE_SHA, [run({ accuracy: 0.9753, loss: 0.1234 })]),
          { baseConfig: GATED, secrets: ['hunter2-secret-value'] },
        ),
      ).markdown,
  },
  {
    name: 'missing-metric',
    render: () =>
      buildReport(
        input(
          succeeded(HEAD_SHA, [run({ accuracy: 0.9761, loss: 0.1198, f1: 0.9755 })]),
          succeeded(BASE_SHA, [run({ accuracy: 0.9753, loss: 0.1234, top5_acc: 0.9991 })]),
        ),
      ).markdown,
  },
  {
    name: 'charts',
    render: () =>
      buildReport(
        input(
          succeeded(HEAD_SHA, [
            run({ accuracy: 0.9811, loss: 0.0634 }, 42, {
              loss: epochs(0.2961, 0.0634, 5),
              val_accuracy: epochs(0.9512, 0.9788, 5),
            }),
          ]),
          succeeded(BASE_SHA, [
            run({ accuracy: 0.9753, loss: 0.1234 }, 42, {
              loss: epochs(0.3012, 0.1234, 3),
              val_accuracy: epochs(0.9488, 0.9712, 3),
            }),
          ]),
          { baseConfig: GATED },
        ),
      ).markdown,
  },
  {
    name: 'long-log-trimmed',
    render: () => {
      const lines = Array.from(
        { length: 40_000 },
        (_, i) => `step ${i}: loss=${(1 / (i + 1)).toFixed(6)} ${'x'.repeat(i % 7 === 0 ? 2_000 : 60)}`,
      );
      return buildReport(
        input(
          failed(
            HEAD_SHA,
            'run',
            'the run was stopped after 30 min (timeout_minutes)',
            `${lines.join('\n')}\nKilled`,
            {
              clone: 1_100,
              config: 10,
              setup: 21_000,
              run: 1_800_000,
            },
          ),
          succeeded(BASE_SHA, [run({ accuracy: 0.9753, loss: 0.1234 })]),
        ),
      ).markdown;
    },
  },
  {
    name: 'invalid-config',
    render: () => {
      let configError: RepoConfigError | undefined;
      try {
        parseRepoConfig(
          'run: python3 train.py\ntimeout_minutes: soon\nmetrics:\n  accuracy:\n    direction: up\n',
        );
      } catch (error) {
        configError = error as RepoConfigError;
      }
      return buildReport(
        input(
          failed(HEAD_SHA, 'config', '.evalbot.yml is invalid', '', { clone: 1_100, config: 9 }),
          succeeded(BASE_SHA, [run({ accuracy: 0.9753, loss: 0.1234 })]),
          { configErrors: { head: configError } },
        ),
      ).markdown;
    },
  },
  {
    name: 'pending',
    render: () =>
      renderPending({
        pr: { repoHtmlUrl: REPO_URL },
        headSha: HEAD_SHA,
        baseSha: BASE_SHA,
        startedAt: NOW,
        supersededSha: '2222222aaaaaaaabbbbbbbbccccccccdddddddd',
        progress: {
          head: { stage: 'setup', message: 'installing requirements', percent: 20 },
          base: { stage: 'run', percent: 60 },
        },
        previousRuns: EARLIER_RUNS,
      }),
  },
];
