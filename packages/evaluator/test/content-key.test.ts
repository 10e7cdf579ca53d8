import { parseRepoConfig, type RepoConfig } from '@evalbot/repo-config';
import { describe, expect, it } from 'vitest';
import { ignoreMatcher, resultKey, splitIgnored, type TreeEntry } from '../src/index.ts';

const entry = (path: string, oid = 'a'.repeat(40)): TreeEntry => ({
  mode: '100644',
  type: 'blob',
  oid,
  path,
});
const FILES = [entry('demo.py', '1'.repeat(40)), entry('requirements.txt', '2'.repeat(40))];
const PYTHON = { executable: '/usr/bin/python3', version: '3.11.2' };

function keyOf(config: Partial<RepoConfig> = {}, more: { version?: string; entries?: TreeEntry[] } = {}) {
  return resultKey({
    scope: 'repo:octo/model',
    side: 'head',
    entries: more.entries ?? FILES,
    config: { ...parseRepoConfig(undefined), ...config },
    python: PYTHON,
    ...(more.version ? { evaluationVersion: more.version } : {}),
  });
}

describe('ignore patterns', () => {
  it('match gitignore-style: names at any depth, anchored paths, directories and **', () => {
    const matches = ignoreMatcher(['*.md', 'docs/**', 'notes/', 'a/**/b.txt']);
    expect(
      [
        'README.md',
        'src/GUIDE.md',
        'docs/x.py',
        'docs/deep/y',
        'notes/n.txt',
        'a/b.txt',
        'a/x/y/b.txt',
      ].filter((p) => !matches(p)),
    ).toEqual([]);
    expect(
      ['demo.py', 'docsx/y', 'src/docs/x.py', 'md', 'a/b.txt.bak', 'README.mdx'].filter(matches),
    ).toEqual([]);
  });

  it('never ignore .evalbot.yml nor the requirements file, which the evaluation reads', () => {
    const { kept, ignored } = splitIgnored(
      [...FILES, entry('.evalbot.yml'), entry('docs/a.md')],
      ['*.txt', '*.yml', 'docs/**'],
      'requirements.txt',
    );
    expect(kept.map((e) => e.path).sort()).toEqual(['.evalbot.yml', 'demo.py', 'requirements.txt']);
    expect(ignored.map((e) => e.path)).toEqual(['docs/a.md']);
  });
});

describe('the result key', () => {
  it('is the same for the same files, whatever their order', () => {
    expect(keyOf({}, { entries: [...FILES].reverse() })).toBe(keyOf());
  });

  it.each<[string, Partial<RepoConfig>]>([
    ['run', { run: 'python3 train.py' }],
    ['env', { env: { EPOCHS: '3' } }],
    ['repeats', { repeats: 3 }],
    ['seed', { seed: 7 }],
    ['setup', { setup: ['make data'] }],
    ['requirements', { requirements: 'requirements-gpu.txt' }],
    ['resources.gpu', { resources: { gpu: 1 } }],
    ['resources.pool', { resources: { gpu: 0, pool: 'big-cpu' } }],
  ])('differs when %s differs', (_, change) => {
    expect(keyOf(change)).not.toBe(keyOf());
  });

  it("differs when evalbot's evaluation version, a file, the side, the scope or the interpreter differ", () => {
    const base = keyOf();
    expect(keyOf({}, { version: 'next' })).not.toBe(base);
    expect(keyOf({}, { entries: [entry('demo.py', '3'.repeat(40)), FILES[1] as TreeEntry] })).not.toBe(base);
    const input = { entries: FILES, config: parseRepoConfig(undefined), python: PYTHON };
    expect(resultKey({ ...input, scope: 'repo:octo/model', side: 'base' })).not.toBe(base);
    expect(resultKey({ ...input, scope: 'repo:octo/other', side: 'head' })).not.toBe(base);
    expect(
      resultKey({
        ...input,
        scope: 'repo:octo/model',
        side: 'head',
        python: { ...PYTHON, version: '3.12.1' },
      }),
    ).not.toBe(base);
  });

  it('does not change with thresholds or directions, which judge a result without changing it', () => {
    expect(
      keyOf({ metrics: { accuracy: { direction: 'higher', fail_if_worse_by: 0.01 } }, significance: 0.01 }),
    ).toBe(keyOf());
  });
});
