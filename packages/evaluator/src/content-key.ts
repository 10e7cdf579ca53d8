import { createHash } from 'node:crypto';
import { poolOf, REPO_CONFIG_FILE, type RepoConfig } from '@evalbot/repo-config';

/**
 * evalbot's evaluation version: part of every result key. Bump it whenever a change to evalbot
 * could change what an evaluation measures (how commands run, how metrics are read), so no
 * result of the earlier way is reused.
 */
export const EVALUATION_VERSION = '3';

/** One entry of `git ls-tree -r`: mode, type, object id and path (relative to the root). */
export interface TreeEntry {
  mode: string;
  type: string;
  oid: string;
  path: string;
  /** The name is not UTF-8: `path` is a lossy decoding (two such names can read the same). */
  undecodable?: true;
}

/**
 * A matcher for `.evalbot.yml` `ignore:` patterns, gitignore-style: `*` and `?` match within a
 * name, `**` across directories; a pattern without a `/` (other than a trailing one) matches a
 * name at any depth; a trailing `/` means everything under that directory.
 */
export function ignoreMatcher(patterns: readonly string[]): (path: string) => boolean {
  const regexes = patterns.map(patternToRegex);
  return (path) => regexes.some((re) => re.test(path));
}

function patternToRegex(pattern: string): RegExp {
  let p = pattern.replace(/^\/+/, '');
  const directory = p.endsWith('/');
  p = p.replace(/\/+$/, '');
  const anchored = pattern.replace(/\/+$/, '').includes('/');
  let re = '';
  for (let i = 0; i < p.length; i++) {
    const c = p[i] as string;
    if (c === '*' && p[i + 1] === '*') {
      // `**/` any leading directories (none included); a final `**` everything below.
      if (p[i + 2] === '/') {
        re += '(?:.*/)?';
        i += 2;
      } else {
        re += '.*';
        i += 1;
      }
    } else if (c === '*') re += '[^/]*';
    else if (c === '?') re += '[^/]';
    else re += c.replace(/[.+^${}()|[\]\\]/g, '\\$&');
  }
  // A matched directory takes everything under it with it.
  const tail = directory ? '/.*' : '(?:/.*)?';
  return new RegExp(`^${anchored ? '' : '(?:.*/)?'}${re}${tail}$`);
}

/**
 * Split a commit's files into those the evaluation reads and those `ignore:` removes. The
 * config file and the requirements file are never ignored: the evaluation reads them. Nor is a
 * `.gitattributes`: the worker's checkout switches off the attributes that change a file's
 * bytes (fetch-commit.ts), but git reads others (and may read more in a later version) before
 * ignored files are removed; a result keyed without it could hang on it.
 */
export function splitIgnored(
  entries: readonly TreeEntry[],
  patterns: readonly string[],
  requirements: RepoConfig['requirements'],
): { kept: TreeEntry[]; ignored: TreeEntry[] } {
  const matches = ignoreMatcher(patterns);
  const always = new Set([REPO_CONFIG_FILE, ...(requirements === false ? [] : [requirements])]);
  const kept: TreeEntry[] = [];
  const ignored: TreeEntry[] = [];
  for (const entry of entries) {
    const isAttributes = entry.path === '.gitattributes' || entry.path.endsWith('/.gitattributes');
    (patterns.length > 0 && !always.has(entry.path) && !isAttributes && matches(entry.path)
      ? ignored
      : kept
    ).push(entry);
  }
  return { kept, ignored };
}

/** What a result depends on besides the files: who runs it, where, and how. */
export interface ResultKeyInput {
  /** Whose results may be shared: one repository, or a group the operator opted in. */
  scope: string;
  side: 'head' | 'base';
  /** The files the evaluation reads (after `ignore:`). */
  entries: readonly TreeEntry[];
  /** The effective configuration: the commit's own with the base's repeats, seed, ignore and resources. */
  config: RepoConfig;
  python: { executable: string; version: string };
  evaluationVersion?: string;
}

/**
 * The key of a result: a hash of everything that decides what the evaluation measures — the
 * evaluated files (mode, object id and path of each), the requirements and config (through
 * their files and the effective settings, including the pool it ran in), the side (PR code
 * sees `EVALBOT_SIDE`), the interpreter and evalbot's evaluation version. Thresholds and directions are left out: they
 * judge a result, they do not change it.
 */
export function resultKey(input: ResultKeyInput): string {
  const { config } = input;
  const hash = createHash('sha256');
  const field = (name: string, value: string) => hash.update(`${name}\0${value}\0`);
  field('version', input.evaluationVersion ?? EVALUATION_VERSION);
  field('scope', input.scope);
  field('side', input.side);
  field('python', `${input.python.executable}\0${input.python.version}`);
  field(
    'config',
    JSON.stringify({
      requirements: config.requirements,
      setup: config.setup,
      run: config.run,
      metrics_file: config.metrics_file,
      working_directory: config.working_directory,
      timeout_minutes: config.timeout_minutes,
      env: Object.entries(config.env).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)),
      repeats: config.repeats,
      seed: config.seed,
      ignore: config.ignore,
      // Where it ran: a result trained in one pool (CPU) is not the result of another (a GPU).
      resources: { gpu: config.resources.gpu, pool: poolOf(config.resources) },
    }),
  );
  const sorted = [...input.entries].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  for (const e of sorted) hash.update(`${e.mode} ${e.type} ${e.oid}\t${e.path}\0`);
  return `r1-${hash.digest('hex')}`;
}

/**
 * The key of a commit's result key: a commit and the base whose settings it runs with fix
 * their files and configs, so the same pair (on the same interpreter and evaluation version)
 * always has the same result key, and a base evaluated before is found without a clone.
 */
export function commitKey(input: {
  scope: string;
  side: 'head' | 'base';
  sha: string;
  settingsFrom?: string | undefined;
  python: { executable: string; version: string };
  evaluationVersion?: string;
}): string {
  return `c1-${createHash('sha256')
    .update(
      [
        input.evaluationVersion ?? EVALUATION_VERSION,
        input.scope,
        input.side,
        input.sha,
        input.settingsFrom ?? '',
        input.python.executable,
        input.python.version,
      ].join('\0'),
    )
    .digest('hex')}`;
}
