import { execFileSync } from 'node:child_process';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseRepoConfig } from '@evalbot/repo-config';
import { describe, expect, it } from 'vitest';
import { fetchCommit } from '../src/fetch-commit.ts';
import { createSandbox, evaluateCommit, LogCollector, resultKey, toSideOutcome } from '../src/index.ts';
import {
  MAX_HISTORY_POINTS,
  MAX_HISTORY_SERIES,
  MAX_METRICS,
  MAX_NAME_LENGTH,
  metricsFromLiteral,
} from '../src/metrics-from-literal.ts';
import { parsePythonLiteral } from '../src/parse-python-literal.ts';
import { MAX_METRICS_BYTES } from '../src/read-metrics.ts';
import { runSandboxed } from '../src/run-sandboxed.ts';
import {
  type EvaluateFilesOptions,
  evaluateFiles,
  FAKE_MODEL,
  fileCacheDir,
  git,
  leftovers,
  makeRepo,
  type RepoFile,
  removedAfterEach,
  tempDir,
} from './helpers.ts';

// What a pull request controls on the way to the worker's reads: where its metrics file is and
// what it is, its working directory, its `.evalbot.yml`, its file names and submodules. Each
// attack must end as the PR's own failure with a message, never an internal error or a hang.

const remove = removedAfterEach();
const cache = fileCacheDir();

async function evaluate(files: Record<string, RepoFile>, extra: Partial<EvaluateFilesOptions> = {}) {
  return evaluateFiles(files, { cacheDir: cache.path, maxTimeoutMs: 120_000, ...extra }, remove);
}

/** A model that writes `code` (Python) in place of its metrics file. */
const writesMetrics = (code: string): Record<string, RepoFile> => ({
  'demo.py': `import json, os\n${code}\n`,
  'requirements.txt': '# no packages\n',
});

/** `fetchCommit` of `repo` into a new directory, as the evaluator calls it; the result and the directory. */
async function fetchInto(
  repo: { dir: string; sha: string },
  extra: Partial<Parameters<typeof fetchCommit>[0]> = {},
) {
  const parent = await tempDir('checkout');
  const gitHome = await tempDir('git-home');
  remove(parent, gitHome);
  const dir = join(parent, 'checkout');
  const result = await fetchCommit({
    source: { path: repo.dir, sha: repo.sha },
    dir,
    gitHome,
    workerEnv: { PATH: process.env.PATH },
    timeoutMs: 60_000,
    graceMs: 1_000,
    log: new LogCollector({ secrets: [] }),
    secrets: [],
    ...extra,
  });
  return { result, dir };
}

describe('the metrics file a PR writes', () => {
  it('is refused, without blocking, when it is a FIFO no one writes to', async () => {
    // Opened for reading without O_NONBLOCK, a FIFO would hang the worker until the job's deadline.
    const result = await evaluate(writesMetrics('os.mkfifo("result.txt")'));
    expect(result).toMatchObject({
      ok: false,
      stage: 'metrics',
      message: 'the metrics file `result.txt` is not a regular file',
    });
  });

  it('is refused when it is a directory', async () => {
    const result = await evaluate(writesMetrics('os.makedirs("result.txt/inner")'));
    expect(result).toMatchObject({
      ok: false,
      stage: 'metrics',
      message: 'the metrics file `result.txt` is not a regular file',
    });
  });

  it('is refused when it links to the worker’s own environment in /proc', async () => {
    const result = await evaluate(writesMetrics('os.symlink("/proc/self/environ", "result.txt")'));
    expect(result).toMatchObject({
      ok: false,
      stage: 'metrics',
      message: 'the metrics file `result.txt` is a symbolic link; evalbot reads only regular files',
    });
  });

  it('named with a NUL character is a config problem of the PR, not an internal error', async () => {
    // Before the schema refused it, lstat threw a TypeError: retried 3 times, then reported
    // as "evalbot could not evaluate this commit … not a problem of the PR".
    const result = await evaluate({ ...FAKE_MODEL, '.evalbot.yml': 'metrics_file: "result.txt\\0"\n' });
    expect(result).toMatchObject({
      ok: false,
      stage: 'config',
      message: expect.stringContaining('`metrics_file`: must not contain a NUL character'),
    });
  });
});

describe('the checkout a PR controls', () => {
  it('refuses a working_directory that is a committed symlink out of the checkout', async () => {
    const result = await evaluate({
      ...FAKE_MODEL,
      model: { symlink: '/' },
      '.evalbot.yml': 'working_directory: model\n',
    });
    expect(result).toMatchObject({
      ok: false,
      stage: 'config',
      message: expect.stringContaining('`working_directory`: resolves outside the repository'),
    });
  });

  it('refuses a .evalbot.yml that is a directory', async () => {
    const result = await evaluate({ ...FAKE_MODEL, '.evalbot.yml/run': 'python3 demo.py\n' });
    expect(result).toMatchObject({
      ok: false,
      stage: 'config',
      message: expect.stringContaining('is not a regular file'),
    });
  });

  it('removes ignored files whose names hold newlines or start with dashes before the run', async () => {
    // The tree is read with `ls-tree -z`: a newline in a name would otherwise make git quote it,
    // and the quoted name would match no pattern (the run would see a file the result key skips).
    const result = await evaluate({
      'demo.py':
        'import glob, json\njson.dump({"md_files": len(glob.glob("*.md") + glob.glob("docs/*.md"))}, open("result.txt", "w"))\n',
      'requirements.txt': '# no packages\n',
      'notes\nwith newline.md': 'x',
      '-rf.md': 'x',
      '--help.md': 'x',
      'docs/"quoted" name.md': 'x',
      '.evalbot.yml': 'ignore: ["*.md"]\n',
    });
    expect(result).toMatchObject({ ok: true, runs: [{ metrics: { md_files: 0 } }] });
  });

  // The checkout is written by the worker's git before any step, outside the sandbox's disk
  // watch. One blob under many paths packs to kilobytes and checks out to any size (GitHub
  // refuses files over 100 MB, not 10,000 paths to one): its size is counted from git's objects
  // (`ls-tree -r -l`) and a commit over the disk limit is refused before anything is written.
  it('refuses at clone a commit whose checkout exceeds the disk limit', async () => {
    const MiB = 1024 * 1024;
    const sandbox = await createSandbox({
      limits: {
        memoryBytes: 1024 * MiB,
        processes: 256,
        fileSizeBytes: 64 * MiB,
        diskBytes: 8 * MiB,
        tmpBytes: 16 * MiB,
      },
    });
    const blob = '\0'.repeat(8 * MiB);
    const result = await evaluate(
      { ...FAKE_MODEL, 'a/zeros.bin': blob, 'b/zeros.bin': blob, 'c/zeros.bin': blob, 'd/zeros.bin': blob },
      { sandbox },
    );
    expect(result).toMatchObject({
      ok: false,
      stage: 'clone',
      message: expect.stringMatching(
        /^checking out commit [0-9a-f]{12} would write 32\.0 MiB \(\d+ files\), more than the 8 MiB the job directory may hold \(EVALBOT_SANDBOX_DISK_MB\)/,
      ),
    });
  });

  it('refuses before checkout a commit of more files than a checkout may hold (a git bomb)', async () => {
    // Many paths to one blob: a few kilobytes to push, whatever the count.
    const files: Record<string, RepoFile> = { ...FAKE_MODEL };
    for (let i = 0; i < 40; i++) files[`bomb/${i}.txt`] = 'same\n';
    const repo = await makeRepo(files);
    remove(repo.dir);
    const { result: refused, dir } = await fetchInto(repo, { maxFiles: 30 });
    expect(refused).toEqual({
      ok: false,
      cancelled: false,
      message: expect.stringMatching(
        /^commit [0-9a-f]{12} has more than 30 files and directories: evalbot does not check out a tree that large/,
      ),
    });
    // Nothing was checked out.
    expect(await readdir(dir)).toEqual(['.git']);
    // The files and the one directory `bomb/`.
    const { result: within } = await fetchInto(repo, { maxFiles: 40 + Object.keys(FAKE_MODEL).length + 1 });
    expect(within).toMatchObject({ ok: true });
    expect(within.ok && within.tree.length).toBe(40 + Object.keys(FAKE_MODEL).length);
  });

  it('lists a tree of many times one read of git’s output entry by entry, as git lists it, and stops midway at the limit', async () => {
    const files: Record<string, RepoFile> = { ...FAKE_MODEL };
    // ~5,000 entries of 60–140 bytes: git's listing is many 64 KiB reads, entries split across them.
    for (let i = 0; i < 5_000; i++) files[`d${i % 37}/${'n'.repeat(i % 80)}-${i}.txt`] = `${i % 3}\n`;
    const repo = await makeRepo(files);
    remove(repo.dir);
    const { result } = await fetchInto(repo);
    const listed = (await git(repo.dir, 'ls-tree', '-r', '--name-only', '-z', 'HEAD'))
      .split('\0')
      .filter(Boolean);
    expect(listed.length).toBe(5_000 + Object.keys(FAKE_MODEL).length);
    expect(result.ok && result.tree.map((e) => e.path)).toEqual(listed);

    const { result: stopped, dir } = await fetchInto(repo, { maxFiles: 3_000 });
    expect(stopped).toMatchObject({
      ok: false,
      message: expect.stringContaining('has more than 3,000 files'),
    });
    expect(await readdir(dir)).toEqual(['.git']);
  });

  it('refuses before checkout a path longer than any checkout could write', async () => {
    const repo = await makeRepo(FAKE_MODEL);
    remove(repo.dir);
    // Only git's index holds such a path (25 directories of 200 characters): no file system would.
    const oid = await git(repo.dir, 'rev-parse', 'HEAD:demo.py');
    const long = `${Array.from({ length: 25 }, () => 'a'.repeat(200)).join('/')}/demo.py`;
    await git(repo.dir, 'update-index', '--add', '--cacheinfo', `100644,${oid},${long}`);
    await git(repo.dir, 'commit', '-q', '-m', 'a long path');
    const sha = await git(repo.dir, 'rev-parse', 'HEAD');
    const { result, dir } = await fetchInto({ dir: repo.dir, sha });
    expect(result).toEqual({
      ok: false,
      cancelled: false,
      message: expect.stringMatching(/^commit [0-9a-f]{12} has file paths longer than 4096 bytes/),
    });
    expect(await readdir(dir)).toEqual(['.git']);
  });

  it('checks out the bytes of the objects, whatever .gitattributes asks (ident expands $Id$ 12-fold)', async () => {
    const content = '$Id$\n'.repeat(1_000);
    const repo = await makeRepo({ ...FAKE_MODEL, '.gitattributes': '* ident\n', 'ids.txt': content });
    remove(repo.dir);
    const { result, dir } = await fetchInto(repo, { maxCheckoutBytes: 1024 * 1024 });
    expect(result).toMatchObject({ ok: true });
    expect(await readFile(join(dir, 'ids.txt'), 'utf8')).toBe(content);
  });

  it('checks out files as their objects hold them, whatever line endings .gitattributes or its macros ask', async () => {
    const MiB = 1024 * 1024;
    // 6 MiB of newlines fit 8 MiB; as CRLF they would take 12 MiB, written before any step.
    const lines = '\n'.repeat(6 * MiB);
    const repo = await makeRepo({
      ...FAKE_MODEL,
      '.gitattributes': '[attr]windows text eol=crlf\n*.txt windows\n',
      'lines.txt': lines,
      'sub/.gitattributes': '* text eol=crlf\n',
      'sub/more.txt': 'a\nb\n',
    });
    remove(repo.dir);
    const { result, dir } = await fetchInto(repo, { maxCheckoutBytes: 8 * MiB });
    expect(result).toMatchObject({ ok: true });
    expect((await readFile(join(dir, 'lines.txt'))).length).toBe(lines.length);
    expect(await readFile(join(dir, 'sub', 'more.txt'), 'utf8')).toBe('a\nb\n');
  });

  it('counts the directories a tree makes: nested ones cost a block and an inode each, whatever the files', async () => {
    // 20 chains of 100 nested directories, each ending in one small file: a few KB to push.
    const repo = await makeRepo(FAKE_MODEL);
    remove(repo.dir);
    const mktree = (entries: string) =>
      execFileSync('git', ['mktree'], { cwd: repo.dir, input: entries, encoding: 'utf8' }).trim();
    const blob = await git(repo.dir, 'rev-parse', 'HEAD:demo.py');
    let chain = mktree(`100644 blob ${blob}\tf.py\n`);
    for (let i = 0; i < 100; i++) chain = mktree(`040000 tree ${chain}\td\n`);
    const root = mktree(Array.from({ length: 20 }, (_, i) => `040000 tree ${chain}\tc${i}\n`).join(''));
    const sha = await git(repo.dir, 'commit-tree', '-m', 'nested directories', root);

    const { result: tooMany, dir } = await fetchInto({ dir: repo.dir, sha }, { maxFiles: 1_000 });
    expect(tooMany).toMatchObject({
      ok: false,
      message: expect.stringContaining('has more than 1,000 files and directories'),
    });
    expect(await readdir(dir)).toEqual(['.git']);
    // 2,020 directories and 20 files of one block each: 8.0 MiB, where the files alone are 80 KiB.
    const { result: tooLarge } = await fetchInto(
      { dir: repo.dir, sha },
      { maxCheckoutBytes: 4 * 1024 * 1024 },
    );
    expect(tooLarge).toMatchObject({
      ok: false,
      message: expect.stringMatching(/^checking out commit [0-9a-f]{12} would write 8\.0 MiB \(20 files\)/),
    });
    const { result: fits } = await fetchInto({ dir: repo.dir, sha }, { maxCheckoutBytes: 16 * 1024 * 1024 });
    expect(fits).toMatchObject({ ok: true });
    expect(fits.ok && fits.tree).toHaveLength(20);
    // Siblings named with bytes that are not UTF-8 (0x80…0x93 each read as U+FFFD) are told apart.
    const rawRoot = execFileSync('git', ['mktree'], {
      cwd: repo.dir,
      input: Buffer.concat(
        Array.from({ length: 20 }, (_, i) =>
          Buffer.concat([Buffer.from(`040000 tree ${chain}\t`), Buffer.from([0x80 + i]), Buffer.from('\n')]),
        ),
      ),
      encoding: 'utf8',
    }).trim();
    const rawSha = await git(repo.dir, 'commit-tree', '-m', 'nested directories, names not UTF-8', rawRoot);
    const { result: rawTooLarge } = await fetchInto(
      { dir: repo.dir, sha: rawSha },
      { maxCheckoutBytes: 4 * 1024 * 1024 },
    );
    expect(rawTooLarge).toMatchObject({
      ok: false,
      message: expect.stringMatching(/^checking out commit [0-9a-f]{12} would write 8\.0 MiB \(20 files\)/),
    });
  });

  it('stops a command the worker runs outside the sandbox (its git fetch) once it writes past its disk bound', async () => {
    // A fetch writes the PR's objects before they can be listed: the worker watches it as a step.
    const dir = await tempDir('fetching');
    remove(dir);
    const result = await runSandboxed({
      argv: ['sh', '-c', 'head -c 40000000 /dev/zero > pack && exec sleep 60'],
      cwd: dir,
      env: { PATH: process.env.PATH ?? '' },
      deadline: Date.now() + 50_000,
      log: new LogCollector({ secrets: [] }),
      graceMs: 500,
      disk: { paths: [dir], maxBytes: 8 * 1024 * 1024 },
    });
    expect(result).toMatchObject({ limitHit: 'disk', timedOut: false });
  });

  it('says that LFS files are pointers when .gitattributes hands files to Git LFS', async () => {
    const pointer = `version https://git-lfs.github.com/spec/v1\noid sha256:${'a'.repeat(64)}\nsize 12345\n`;
    const result = await evaluate({
      ...FAKE_MODEL,
      '.gitattributes': '# data\n*.bin filter=lfs diff=lfs merge=lfs -text\n',
      'weights.bin': pointer,
    });
    expect(result).toMatchObject({ ok: true });
    expect(result.logTail).toContain(
      'evalbot: .gitattributes stores files in Git LFS (filter=lfs); evalbot does not fetch LFS objects, so those files hold LFS pointers, not their content',
    );
    const plain = await evaluate({
      ...FAKE_MODEL,
      '.gitattributes': '# filter=lfs is only mentioned here\n*.txt text\n',
    });
    expect(plain.logTail).not.toContain('Git LFS');
  });

  it('fetches no submodule, wherever .gitmodules points', async () => {
    const secret = await makeRepo({ 'secret.txt': 'not for the PR\n' });
    remove(secret.dir);
    const repo = await makeRepo({
      'demo.py':
        'import json, os\njson.dump({"submodule_entries": len(os.listdir("vendor"))}, open("result.txt", "w"))\n',
      'requirements.txt': '# no packages\n',
      '.gitmodules': `[submodule "vendor"]\n\tpath = vendor\n\turl = ${secret.dir}\n`,
    });
    await git(repo.dir, 'update-index', '--add', '--cacheinfo', `160000,${secret.sha},vendor`);
    await git(repo.dir, 'commit', '-q', '-m', 'add a submodule');
    const sha = await git(repo.dir, 'rev-parse', 'HEAD');
    const workRoot = await tempDir('work');
    remove(repo.dir, workRoot);
    const result = await evaluateCommit({
      source: { path: repo.dir, sha },
      side: 'head',
      workRoot,
      cacheDir: cache.path,
      maxTimeoutMs: 120_000,
    });
    expect(result).toMatchObject({ ok: true, runs: [{ metrics: { submodule_entries: 0 } }] });
    expect(await leftovers(workRoot)).toEqual([]);
  });
});

describe('the result key of a PR’s files', () => {
  it('cannot be forged by a file name that spells out other entries', () => {
    // A result is reused for any commit with the same key: a name holding a newline, a tab and
    // a mode must not make one tree list like another (git forbids only NUL in names).
    const [a, b] = ['a'.repeat(40), 'b'.repeat(40)];
    const key = (entries: { path: string; oid: string }[]) =>
      resultKey({
        scope: 'o/r',
        side: 'head',
        entries: entries.map((e) => ({ mode: '100644', type: 'blob', ...e })),
        config: parseRepoConfig(undefined),
        python: { executable: '/usr/bin/python3', version: '3.11.2' },
      });
    const honest = key([
      { path: 'demo.py', oid: a },
      { path: 'requirements.txt', oid: b },
    ]);
    for (const separator of ['\n', '\r\n', '\t']) {
      expect(key([{ path: `demo.py${separator}100644 blob ${b}\trequirements.txt`, oid: a }])).not.toBe(
        honest,
      );
    }
  });
});

describe('what the worker stores of a side', () => {
  // The outcome (with every run's metrics and history) is the evaluate job's return value in
  // Redis, again in its parent's children values, and in the result cache, for each of up to
  // 20 repeats: what one run may keep is bounded by the caps of metrics-from-literal.ts (200
  // metrics, 16 series of 500 points, names of at most 200 characters), not by the 1 MiB the
  // metrics file may hold. docs/operations.md sizes Redis on that worst case.
  it('is bounded whatever history the metrics file holds', async () => {
    const result = await evaluate(
      writesMetrics(
        'json.dump({"accuracy": 0.9, "history": {"loss": [0] * 300000}}, open("result.txt", "w"))',
      ),
    );
    expect(result).toMatchObject({ ok: true, runs: [{ historyEpochs: { loss: 300_000 } }] });
    expect(result.ok && result.runs[0]?.history.loss).toHaveLength(500);
    expect(result.logTail).toContain(
      "evalbot: history 'loss' has 300000 points: 500 evenly spaced ones are kept (the first and the last among them)",
    );
    expect(JSON.stringify(toSideOutcome(result)).length).toBeLessThanOrEqual(256 * 1024);
  });

  it('keeps no more of a hostile 1 MiB metrics file than the caps allow a run', async () => {
    // Names of 200 control characters (each stored as a 6-character \u escape) and numbers of
    // the longest JSON form: every kept entry as large as it can be; then many small metrics,
    // long names and long series that must be skipped or sampled.
    const result = await evaluate(
      writesMetrics(`
x = -1.2345678901234567e-06
worst = lambda i: f"{i:03d}" + "\x01" * 197
m = {"accuracy": 0.9}
m.update({f"long_{i}_" + "n" * 5000: x for i in range(30)})
m.update({worst(i): x for i in range(199)})
m.update({f"m{i}": 0.5 for i in range(20000)})
m["history"] = {worst(i): [x] * 600 for i in range(15)}
m["history"]["steps"] = [0] * 20000
m["history"].update({f"extra_{i}": [1] for i in range(5)})
m["history"].update({"h" * 300 + str(i): [1] for i in range(2)})
text = json.dumps(m, separators=(",", ":"))
assert 900_000 < len(text) <= 1024 * 1024, len(text)
open("result.txt", "w").write(text)`),
    );
    expect(result).toMatchObject({ ok: true, runs: [{ metrics: { accuracy: 0.9 } }] });
    const run = result.ok ? result.runs[0] : undefined;
    expect(Object.keys(run?.metrics ?? {})).toHaveLength(MAX_METRICS);
    expect(Object.keys(run?.history ?? {})).toHaveLength(MAX_HISTORY_SERIES);
    expect(result.logTail).toContain(
      "evalbot: 20000 metrics skipped, from 'm0' on: only the first 200 are kept",
    );
    expect(result.logTail).toContain(
      `evalbot: metric 'long_0_${'n'.repeat(33)}…' skipped: its name has 5007 characters, more than the 200 kept; shorten it`,
    );
    expect(result.logTail).toContain('evalbot: 22 more names longer than 200 characters skipped');
    // The worst case of one run under the caps, in JSON characters (ASCII: as many bytes):
    const name = 2 + 6 * MAX_NAME_LENGTH; // quoted, each character at most a \u escape
    const number = '-0.0000012345678901234567'.length; // the longest a double is written
    const worstRun =
      MAX_METRICS * (name + 1 + number + 1) +
      MAX_HISTORY_SERIES * (name + 3 + MAX_HISTORY_POINTS * (number + 1)) +
      MAX_HISTORY_SERIES * (name + 1 + String(MAX_METRICS_BYTES).length + 1) + // historyEpochs
      200; // seed, durationMs and the keys
    expect(worstRun).toBe(492_656); // ~481 KiB
    expect(JSON.stringify(run).length).toBeLessThanOrEqual(worstRun);
    // The whole outcome: that run, the log tail (bounded on its own, 64 KiB) and 4 KiB of the
    // rest (sha, durations, environment, config).
    expect(JSON.stringify(toSideOutcome(result)).length).toBeLessThanOrEqual(
      worstRun + JSON.stringify(result.logTail).length + 4096,
    );
  });
});

describe('metrics file content', () => {
  it('pollutes no prototype with a __proto__ metric or history', () => {
    const parsed = metricsFromLiteral(
      parsePythonLiteral('{"__proto__": 0.5, "history": {"__proto__": [1, 2]}, "acc": 0.5}'),
    );
    expect(parsed.metrics).toEqual({ acc: 0.5 });
    expect(Object.getPrototypeOf(parsed.metrics)).toBe(Object.prototype);
    expect(({} as Record<string, unknown>).length).toBeUndefined();
    expect(Object.getOwnPropertyNames(Object.prototype)).not.toContain('0');
  });

  // `out.metrics[key] = value` would be ignored for the key `__proto__` (a number is no
  // prototype) and `out.history[key] = values` would make the history object an Array: such a
  // name is skipped with a note instead of vanishing.
  it('keeps a metric and a history series named __proto__, or says why not', () => {
    const parsed = metricsFromLiteral(
      parsePythonLiteral('{"__proto__": 0.5, "history": {"__proto__": [1, 2], "loss": [3]}, "acc": 1}'),
    );
    expect(Object.getPrototypeOf(parsed.history)).toBe(Object.prototype);
    expect(parsed).toMatchObject({ metrics: { acc: 1 }, history: { loss: [3] } });
    expect(parsed.notes).toEqual([
      "metric '__proto__' skipped: the name cannot be stored; rename it",
      "history '__proto__' skipped: the name cannot be stored; rename it",
    ]);
  });

  it('keeps at most 16 history series of 500 points each, sampled evenly, and says so', () => {
    const series = Object.fromEntries(
      Array.from({ length: 20 }, (_, i) => [
        `s${i}`,
        Array.from({ length: i === 0 ? 1001 : 3 }, (_, e) => e),
      ]),
    );
    const parsed = metricsFromLiteral({ acc: 1, history: series });
    expect(Object.keys(parsed.history)).toEqual(Array.from({ length: 16 }, (_, i) => `s${i}`));
    // First and last kept, evenly spaced between: epochs 0, 2, 4, … 1000.
    expect(parsed.history.s0).toEqual(Array.from({ length: 500 }, (_, i) => Math.round((i * 1000) / 499)));
    expect(parsed.historyEpochs).toEqual({ s0: 1001 });
    expect(parsed.notes).toContain("history 's16' skipped: only the first 16 series are kept");
    expect(parsed.notes).toHaveLength(5);
  });

  it('keeps the last of duplicate keys, as Python and JSON readers do', () => {
    // Not an attack on the gate: the head's code writes its own numbers anyway.
    expect(metricsFromLiteral(parsePythonLiteral('{"acc": 0.1, "acc": 0.9}')).metrics).toEqual({ acc: 0.9 });
  });
});
