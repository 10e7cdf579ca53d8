import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { MAX_REPO_CONFIG_BYTES, parseRepoConfig, poolOf, type RepoConfigError } from '../src/index.ts';
import { problemsOf } from './problems-of.ts';

describe('parseRepoConfig', () => {
  it('gives the tutorial defaults when there is no .evalbot.yml', () => {
    expect(parseRepoConfig(undefined)).toEqual({
      requirements: 'requirements.txt',
      setup: [],
      run: 'python3 demo.py',
      metrics_file: 'result.txt',
      working_directory: '.',
      timeout_minutes: 30,
      env: {},
      repeats: 1,
      significance: 0.05,
      seed: 42,
      metrics: {},
      resources: { gpu: 0 },
      ignore: [],
    });
  });

  it('reads ignore as a list of patterns, one pattern as a list of one', () => {
    expect(parseRepoConfig('ignore: ["docs/**", "*.md"]\n').ignore).toEqual(['docs/**', '*.md']);
    expect(parseRepoConfig('ignore: docs/\n').ignore).toEqual(['docs/']);
  });

  it('refuses ignore patterns that negate or leave the repository, saying why', () => {
    const problems = problemsOf('ignore: ["!docs/keep.md", "../x"]\n');
    expect(problems.map((p) => p.problem).join('\n')).toMatch(/negation \("!"\) is not supported/);
    expect(problems.map((p) => p.problem).join('\n')).toMatch(/no "\.\."/);
  });

  it('treats an empty file or only comments as the defaults', () => {
    expect(parseRepoConfig('')).toEqual(parseRepoConfig(undefined));
    expect(parseRepoConfig('# nothing yet\n')).toEqual(parseRepoConfig(undefined));
  });

  it('parses the commented example of the README', () => {
    const readme = readFileSync(join(import.meta.dirname, '..', 'README.md'), 'utf8');
    const example = /```yaml\n([\s\S]*?)```/.exec(readme)?.[1];
    expect(example).toBeDefined();
    const config = parseRepoConfig(example);
    expect(config).toMatchObject({
      requirements: 'requirements.txt',
      setup: ['python3 scripts/prepare_data.py'],
      run: 'python3 demo.py',
      metrics_file: 'result.txt',
      timeout_minutes: 30,
      env: { EPOCHS: '3' },
      repeats: 3,
      significance: 0.05,
      seed: 42,
      metrics: {
        accuracy: { direction: 'higher', fail_if_worse_by: 0.005 },
        loss: { fail_if_worse_by_pct: 10 },
        epoch_seconds: { direction: 'neutral' },
      },
      resources: { gpu: 1, pool: 'a100' },
    });
  });

  it('accepts one setup command written as a string', () => {
    expect(parseRepoConfig('setup: pip install -e .').setup).toEqual(['pip install -e .']);
  });

  it('turns env numbers and booleans into strings for the process environment', () => {
    expect(parseRepoConfig('env: { EPOCHS: 3, FAST: true, NAME: mnist }').env).toEqual({
      EPOCHS: '3',
      FAST: 'true',
      NAME: 'mnist',
    });
  });

  it('accepts requirements: false for a repository without requirements', () => {
    expect(parseRepoConfig('requirements: false').requirements).toBe(false);
  });

  it('names a misspelt key and suggests the right one', () => {
    expect(problemsOf('runn: python3 train.py')).toEqual([
      { key: 'runn', problem: 'is not a known key', fix: expect.stringContaining('did you mean `run`?') },
    ]);
  });

  it('suggests metric setting names for an unknown key under metrics.<name>', () => {
    const [problem] = problemsOf('metrics:\n  accuracy:\n    fail_if_worse: 0.01\n');
    expect(problem?.key).toBe('metrics.accuracy.fail_if_worse');
    expect(problem?.fix).toContain('did you mean `fail_if_worse_by`?');
    expect(problem?.fix).toContain('direction, fail_if_worse_by, fail_if_worse_by_pct');
    expect(problem?.fix).not.toContain('timeout_minutes');
  });

  it('says what a value of the wrong type is and shows a valid line', () => {
    expect(problemsOf('timeout_minutes: soon')).toEqual([
      {
        key: 'timeout_minutes',
        problem: 'is the text "soon", not a number',
        fix: 'give it a number, e.g. `timeout_minutes: 30`',
      },
    ]);
  });

  it('quotes at most 40 characters of a long value, never half an emoji', () => {
    const [problem] = problemsOf(`timeout_minutes: "${'a'.repeat(38)}😀 and so on"`);
    expect(problem?.problem).toBe(`is the text "${'a'.repeat(38)}…", not a number`);
  });

  it('asks for a whole number where a fraction was given', () => {
    expect(problemsOf('repeats: 2.5')).toEqual([
      {
        key: 'repeats',
        problem: 'is 2.5, not a whole number',
        fix: 'give it a whole number, e.g. `repeats: 3`',
      },
    ]);
  });

  it('lists the allowed directions for an unknown one', () => {
    expect(problemsOf('metrics: { accuracy: { direction: up } }')).toEqual([
      {
        key: 'metrics.accuracy.direction',
        problem: 'is the text "up", not one of higher, lower, neutral',
        fix: 'e.g. `direction: higher (or lower, neutral)`',
      },
    ]);
  });

  it('gives the allowed range for numbers out of range', () => {
    const problems = problemsOf('repeats: 0\nsignificance: 2\n');
    expect(problems).toEqual([
      { key: 'repeats', problem: 'is 0; it must be at least 1', fix: 'e.g. `repeats: 3`' },
      { key: 'significance', problem: 'is 2; it must be less than 1', fix: 'e.g. `significance: 0.05`' },
    ]);
  });

  it('refuses a threshold on a neutral metric, which can never be worse', () => {
    const [problem] = problemsOf('metrics: { epoch_seconds: { direction: neutral, fail_if_worse_by: 1 } }');
    expect(problem?.key).toBe('metrics.epoch_seconds.direction');
    expect(problem?.problem).toContain('has a threshold');
  });

  it('refuses paths outside the repository', () => {
    for (const text of [
      'metrics_file: /etc/passwd',
      'working_directory: ../other',
      'requirements: a/../../b',
    ]) {
      const [problem] = problemsOf(text);
      expect(problem?.problem).toBe('must be a path inside the repository (relative, no "..")');
    }
  });

  it('refuses invalid and reserved environment variable names', () => {
    const problems = problemsOf('env: { "BAD-NAME": x, EVALBOT_SEED: 1 }');
    expect(problems.map((p) => [p.key, p.problem])).toEqual([
      ['env.BAD-NAME', 'is not a valid environment variable name'],
      ['env.EVALBOT_SEED', 'is reserved for evalbot'],
    ]);
  });

  it('refuses env names that would steer pip, Python, the linker or git, saying why and what to do', () => {
    const problems = problemsOf(
      'env: { PIP_INDEX_URL: "file:///tmp/evil/simple", PYTHONPATH: /tmp, VIRTUAL_ENV: /v, LD_PRELOAD: x.so, GIT_DIR: /g, "BAD-NAME": x }',
    );
    expect(problems.map((p) => p.key)).toEqual([
      'env.BAD-NAME',
      'env.PIP_INDEX_URL',
      'env.PYTHONPATH',
      'env.VIRTUAL_ENV',
      'env.LD_PRELOAD',
      'env.GIT_DIR',
    ]);
    expect(problems.find((p) => p.key === 'env.PIP_INDEX_URL')?.problem).toBe(
      "is not allowed: pip settings come from the evalbot operator (a repository's index could plant packages in environments other repositories share); pin versions in requirements.txt instead",
    );
    expect(problems.find((p) => p.key === 'env.PYTHONPATH')?.problem).toMatch(
      /^is not allowed: Python interpreter settings .*; set it in the command instead/,
    );
    for (const name of [
      'PIP_EXTRA_INDEX_URL',
      'PIP_CONSTRAINT',
      'pip_find_links',
      'PYTHONSTARTUP',
      'PYTHONHOME',
    ]) {
      expect(problemsOf(`env: { ${name}: x }`)).toMatchObject([
        { key: `env.${name}`, problem: /^is not allowed/ },
      ]);
    }
  });

  it('refuses CUDA_VISIBLE_DEVICES, which evalbot sets to the GPU it gives the training', () => {
    expect(problemsOf('env: { CUDA_VISIBLE_DEVICES: "0,1" }')).toMatchObject([
      {
        key: 'env.CUDA_VISIBLE_DEVICES',
        problem: /^is not allowed: evalbot sets it .* ask for a GPU with `resources: \{gpu: 1\}` instead$/,
      },
    ]);
  });

  it('sends `resources: {gpu: 1}` to the gpu pool and a named pool to that pool', () => {
    expect(poolOf(parseRepoConfig(undefined).resources)).toBe('default');
    expect(poolOf(parseRepoConfig('resources: {gpu: 1}').resources)).toBe('gpu');
    expect(poolOf(parseRepoConfig('resources: {pool: big-memory}').resources)).toBe('big-memory');
    expect(parseRepoConfig('resources: {gpu: 1, pool: a100}').resources).toEqual({ gpu: 1, pool: 'a100' });
  });

  it('refuses more than one GPU per training and pool names that cannot name a queue', () => {
    expect(problemsOf('resources: {gpu: 2}')).toMatchObject([
      { key: 'resources.gpu', problem: /must be 0 or 1: evalbot gives each training one GPU of its own/ },
    ]);
    expect(problemsOf('resources: {pool: "GPU pool!"}')).toMatchObject([
      { key: 'resources.pool', problem: /must be a pool name: lower-case letters, digits and "-"/ },
    ]);
    expect(problemsOf('resources: {gpus: 1}')).toMatchObject([{ key: 'resources.gpus' }]);
  });

  it('still accepts ordinary env names that merely contain a reserved word', () => {
    expect(parseRepoConfig('env: { MY_PIP_MIRROR: x, USE_GIT_LFS: 1, PYTORCH_ENABLE: 1 }').env).toEqual({
      MY_PIP_MIRROR: 'x',
      USE_GIT_LFS: '1',
      PYTORCH_ENABLE: '1',
    });
  });

  it('reports every problem at once, not just the first', () => {
    expect(
      problemsOf('runn: x\ntimeout_minutes: -1\nrepeats: 2.5\n')
        .map((p) => p.key)
        .sort(),
    ).toEqual(['repeats', 'runn', 'timeout_minutes']);
  });

  it('explains a YAML syntax error without crashing', () => {
    const [problem] = problemsOf('run: [python3 demo.py\n');
    expect(problem?.key).toBe('(file)');
    expect(problem?.problem).toMatch(/^is not valid YAML: /);
    expect(problem?.fix).toBe('fix the YAML syntax');
  });

  it('refuses duplicate keys, which YAML readers resolve differently', () => {
    expect(problemsOf('run: a\nrun: b\n')[0]?.problem).toMatch(/not valid YAML/);
  });

  it('refuses a file that is not a mapping', () => {
    expect(problemsOf('- run\n- setup\n')[0]).toMatchObject({
      key: '(file)',
      problem: 'must be a mapping of keys to values',
    });
  });

  it('refuses a file over the size limit before parsing it', () => {
    const [problem] = problemsOf(`# ${'x'.repeat(MAX_REPO_CONFIG_BYTES)}\n`);
    expect(problem?.problem).toContain('byte limit');
  });

  it('does not expand a YAML alias bomb', () => {
    const bomb = ['a: &a ["x","x","x","x","x","x","x","x","x"]'];
    for (let i = 0; i < 9; i++)
      bomb.push(
        `${String.fromCharCode(98 + i)}: &${String.fromCharCode(98 + i)} [*${String.fromCharCode(97 + i)},*${String.fromCharCode(97 + i)},*${String.fromCharCode(97 + i)},*${String.fromCharCode(97 + i)},*${String.fromCharCode(97 + i)},*${String.fromCharCode(97 + i)},*${String.fromCharCode(97 + i)},*${String.fromCharCode(97 + i)},*${String.fromCharCode(97 + i)}]`,
      );
    expect(problemsOf(bomb.join('\n'))[0]?.key).toBe('(file)');
  });

  it('has a message listing each key, problem and fix, for logs and the CLI', () => {
    try {
      parseRepoConfig('timeout_minutes: soon');
    } catch (error) {
      expect((error as RepoConfigError).code).toBe('EVALBOT_REPO_CONFIG_INVALID');
      expect((error as Error).message).toBe(
        '.evalbot.yml is invalid:\n- `timeout_minutes`: is the text "soon", not a number — give it a number, e.g. `timeout_minutes: 30`',
      );
    }
  });
});
