import type { z } from 'zod';
import { metricSettingsSchema, repoConfigSchema } from './schema.ts';
import { sliceWhole } from './slice-whole.ts';

const TOP_LEVEL_KEYS = Object.keys(repoConfigSchema.shape);
const METRIC_KEYS = Object.keys(metricSettingsSchema.shape);

/** A line of valid YAML for each key, shown in every fix. */
const EXAMPLES: Record<string, string> = {
  requirements: 'requirements: requirements.txt (or false for none)',
  setup: 'setup: ["pip install -e ."]',
  run: 'run: python3 demo.py',
  metrics_file: 'metrics_file: result.txt',
  working_directory: 'working_directory: model',
  timeout_minutes: 'timeout_minutes: 30',
  env: 'env: { EPOCHS: "3" }',
  repeats: 'repeats: 3',
  significance: 'significance: 0.05',
  seed: 'seed: 42',
  metrics: 'metrics: { accuracy: { direction: higher, fail_if_worse_by: 0.005 } }',
  direction: 'direction: higher (or lower, neutral)',
  fail_if_worse_by: 'fail_if_worse_by: 0.005',
  fail_if_worse_by_pct: 'fail_if_worse_by_pct: 2',
};

const TYPE_WORDS: Record<string, string> = {
  int: 'a whole number',
  number: 'a number',
  string: 'a text value',
  boolean: 'true or false',
  array: 'a list',
  record: 'a mapping',
  object: 'a mapping',
};

function typeWords(expected: string): string {
  return TYPE_WORDS[expected] ?? `a ${expected}`;
}

function describeValue(value: unknown): string {
  if (value === null || value === undefined) return 'empty';
  if (typeof value === 'string')
    return `the text "${value.length > 40 ? `${sliceWhole(value, 39)}…` : value}"`;
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'object') return 'a mapping';
  return `${typeof value === 'number' ? '' : `${typeof value} `}${String(value)}`;
}

function editDistance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    let diagonal = row[0] as number;
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const above = row[j] as number;
      row[j] = Math.min(above + 1, (row[j - 1] as number) + 1, diagonal + (a[i - 1] === b[j - 1] ? 0 : 1));
      diagonal = above;
    }
  }
  return row[b.length] as number;
}

/** The known key closest to a misspelt one, if one is close. */
function closestKey(key: string, known: readonly string[]): string | undefined {
  let best: { key: string; distance: number } | undefined;
  for (const candidate of known) {
    const distance = editDistance(key.toLowerCase(), candidate);
    if (!best || distance < best.distance) best = { key: candidate, distance };
  }
  if (!best) return undefined;
  const close = best.distance <= Math.max(2, Math.floor(best.key.length / 3));
  return close || best.key.startsWith(key.toLowerCase()) ? best.key : undefined;
}

/** The setting a path ends in: `timeout_minutes`, or `direction` for `metrics.accuracy.direction`. */
function settingOf(path: readonly PropertyKey[]): string | undefined {
  if (path[0] === 'metrics' && path.length >= 3) return String(path[2]);
  return path.length > 0 ? String(path[0]) : undefined;
}

function exampleFor(path: readonly PropertyKey[]): string {
  const example = EXAMPLES[settingOf(path) ?? ''];
  return example ? `e.g. \`${example}\`` : 'see the `.evalbot.yml` example in the README';
}

function boundWords(issue: z.core.$ZodIssueTooSmall | z.core.$ZodIssueTooBig): string {
  if (issue.code === 'too_small') return `${issue.inclusive ? 'at least' : 'more than'} ${issue.minimum}`;
  return `${issue.inclusive ? 'at most' : 'less than'} ${issue.maximum}`;
}

export interface Problem {
  key: string;
  problem: string;
  fix: string;
}

/** A zod issue of `.evalbot.yml` in words: which key, what is wrong, how to fix it. */
export function describeIssue(issue: z.core.$ZodIssue): Problem[] {
  const path = issue.path.map(String);
  const key = path.join('.') || '(file)';
  const input = (issue as { input?: unknown }).input;
  switch (issue.code) {
    case 'unrecognized_keys': {
      const inMetric = path[0] === 'metrics' && path.length === 2;
      const known = inMetric ? METRIC_KEYS : TOP_LEVEL_KEYS;
      return issue.keys.map((k) => {
        const suggestion = closestKey(k, known);
        return {
          key: [...path, k].join('.'),
          problem: 'is not a known key',
          fix: suggestion
            ? `did you mean \`${suggestion}\`? Known keys here: ${known.join(', ')}`
            : `remove it; known keys here: ${known.join(', ')}`,
        };
      });
    }
    case 'invalid_type':
      return [
        {
          key,
          problem:
            input === undefined
              ? `is missing (${typeWords(issue.expected)} is needed)`
              : `is ${describeValue(input)}, not ${typeWords(issue.expected)}`,
          fix: `give it ${typeWords(issue.expected)}, ${exampleFor(issue.path)}`,
        },
      ];
    case 'invalid_value':
      return [
        {
          key,
          problem: `is ${describeValue(input)}, not one of ${issue.values.map(String).join(', ')}`,
          fix: exampleFor(issue.path),
        },
      ];
    case 'too_small':
    case 'too_big':
      return [
        {
          key,
          problem: `is ${describeValue(input)}; it must be ${boundWords(issue)}`,
          fix: exampleFor(issue.path),
        },
      ];
    case 'invalid_key': {
      const inner = issue.issues[0]?.message ?? 'is not allowed';
      return [
        {
          key,
          problem: `${inner === 'Invalid input' ? 'is not allowed' : inner}`,
          fix: 'use letters, digits and _ (not starting with a digit or EVALBOT_)',
        },
      ];
    }
    case 'invalid_union': {
      // A value of the right type refused by a rule (e.g. a NUL in one setup command): say the rule.
      const rule = issue.errors.flat().find((inner) => inner.code === 'custom' && inner.path.length === 0);
      return [
        {
          key,
          problem: rule?.message ?? `is ${describeValue(input)}, which is not allowed here`,
          fix: exampleFor(issue.path),
        },
      ];
    }
    default:
      return [{ key, problem: issue.message, fix: exampleFor(issue.path) }];
  }
}
