import { sideOutcomeSchema } from '@evalbot/jobs';
import { RepoConfigError } from '@evalbot/repo-config';
import { describe, expect, it } from 'vitest';
import type { Progress } from '../src/index.ts';
import { evaluateCommit, toSideOutcome } from '../src/index.ts';
import {
  commit,
  type EvaluateFilesOptions,
  evaluateFiles,
  FAKE_MODEL,
  fileCacheDir,
  makeRepo,
  type RepoFile,
  removedAfterEach,
  tempDir,
} from './helpers.ts';

const remove = removedAfterEach();
const cache = fileCacheDir();

/** Evaluate a local repository holding `files`; checks the work root is left empty. */
async function evaluate(files: Record<string, RepoFile>, extra: Partial<EvaluateFilesOptions> = {}) {
  const result = await evaluateFiles(
    files,
    { cacheDir: cache.path, maxTimeoutMs: 120_000, ...extra },
    remove,
  );
  // What the worker stores must satisfy the shared schema.
  expect(sideOutcomeSchema.safeParse(result).success).toBe(true);
  return result;
}

describe('evaluateCommit', () => {
  it('returns the metrics, history, durations and environment of a model that succeeds', async () => {
    const progress: Progress[] = [];
    const logLines: string[] = [];
    const result = await evaluate(
      {
        ...FAKE_MODEL,
        // A fake numpy distribution: environment facts must come from the job's environment after setup.
        'fake-numpy.sh':
          'site=$(python3 -c "import sysconfig; print(sysconfig.get_path(\'purelib\'))")\n' +
          'mkdir -p "$site/numpy-9.9.9.dist-info"\n' +
          'printf "Metadata-Version: 2.1\\nName: numpy\\nVersion: 9.9.9\\n" > "$site/numpy-9.9.9.dist-info/METADATA"\n',
        '.evalbot.yml': 'setup: sh fake-numpy.sh\n',
      },
      { onProgress: (p) => progress.push(p), onLog: (line) => logLines.push(line) },
    );
    expect(result).toMatchObject({
      ok: true,
      runs: [{ seed: 42, metrics: { loss: 0.292, accuracy: 0.9 }, history: { loss: [0.5, 0.25] } }],
      environment: { python: expect.stringMatching(/^3\.\d+\.\d+$/), packages: { numpy: '9.9.9' } },
    });
    if (!result.ok) return;
    for (const stage of ['clone', 'config', 'setup', 'run', 'metrics'] as const) {
      expect(result.durations[stage]).toBeGreaterThanOrEqual(0);
    }
    expect(result.runs[0]?.durationMs).toBeGreaterThan(0);
    expect(result.logTail).toContain('$ python3 demo.py');
    expect(result.logTail).toContain('training with seed 42');
    expect(logLines).toContain('training with seed 42');
    expect(progress.map((p) => p.stage)).toEqual(
      expect.arrayContaining(['clone', 'config', 'setup', 'run', 'metrics']),
    );
    expect(progress.at(-1)).toMatchObject({ stage: 'metrics', percent: 100 });
  });

  it("reads the tutorial's Python dict literal from result.txt", async () => {
    const result = await evaluate({
      'demo.py': `open("result.txt", "w").write(str({'loss': 0.3, 'accuracy': 0.9, 'epochs': (1, 2)}))\n`,
    });
    expect(result).toMatchObject({
      ok: true,
      runs: [{ metrics: { loss: 0.3, accuracy: 0.9 }, history: { epochs: [1, 2] } }],
    });
  });

  it('runs the model `repeats` times with EVALBOT_SEED = seed + i, from the configured directory', async () => {
    const result = await evaluate(
      {
        'model/train.py': `import os\nseed = int(os.environ["EVALBOT_SEED"])\nopen("out/metrics.json", "w").write('{"seed": %d, "base": %d}' % (seed, os.environ["EVALBOT_SIDE"] == "base"))\n`,
        'model/out/.keep': '',
        '.evalbot.yml':
          'working_directory: model\nrun: python3 train.py\nmetrics_file: out/metrics.json\nrepeats: 3\nseed: 7\n',
      },
      { side: 'base' },
    );
    expect(result).toMatchObject({ ok: true });
    expect(result.runs.map((r) => [r.seed, r.metrics.seed, r.metrics.base])).toEqual([
      [7, 7, 1],
      [8, 8, 1],
      [9, 9, 1],
    ]);
  });

  describe('repeats and seed from the base commit (verdictSettingsFrom)', () => {
    /** A repository whose base commit has `base` and whose head (on top) has `head`; evaluates the head. */
    async function evaluateHeadOver(base: Record<string, RepoFile>, head: Record<string, RepoFile>) {
      const repo = await makeRepo(base);
      const workRoot = await tempDir('work');
      remove(repo.dir, workRoot);
      const headSha = await commit(repo.dir, head);
      const logLines: string[] = [];
      const result = await evaluateCommit({
        source: { path: repo.dir, sha: headSha },
        side: 'head',
        workRoot,
        cacheDir: cache.path,
        maxTimeoutMs: 120_000,
        verdictSettingsFrom: { sha: repo.sha },
        onLog: (line) => logLines.push(line),
      });
      expect(sideOutcomeSchema.safeParse(toSideOutcome(result)).success).toBe(true);
      return { result, logLines };
    }

    it("runs the head with the base's repeats and seeds, whatever the head asks, and the head's own commands", async () => {
      const { result, logLines } = await evaluateHeadOver(
        { ...FAKE_MODEL, '.evalbot.yml': 'repeats: 3\nseed: 7\nrun: exit 7\n' },
        { '.evalbot.yml': 'repeats: 1\nseed: 1234\n' },
      );
      expect(result).toMatchObject({ ok: true, config: { run: 'python3 demo.py', repeats: 3, seed: 7 } });
      expect(result.runs.map((r) => [r.seed, r.metrics.loss])).toEqual([
        [7, 0.257],
        [8, 0.258],
        [9, 0.259],
      ]);
      expect(logLines).toContain(
        'evalbot: repeats 3 and seed 7 come from the base branch (this commit asks for repeats 1, seed 1234): both sides run alike',
      );
    });

    it('uses the defaults (1 run, seed 42) when the base has no .evalbot.yml', async () => {
      const { result } = await evaluateHeadOver(FAKE_MODEL, { '.evalbot.yml': 'repeats: 5\nseed: 1\n' });
      expect(result).toMatchObject({ ok: true, config: { repeats: 1, seed: 42 } });
      expect(result.runs.map((r) => r.seed)).toEqual([42]);
    });

    it('uses the defaults, and says why, when the base file is over the size limit or the base commit is gone', async () => {
      const huge = await evaluateHeadOver(
        { ...FAKE_MODEL, '.evalbot.yml': `repeats: 2\n#${'x'.repeat(70_000)}\n` },
        { '.evalbot.yml': 'repeats: 4\n' },
      );
      expect(huge.result.runs.map((r) => r.seed)).toEqual([42]);
      expect(huge.logLines).toContainEqual(
        expect.stringMatching(/\.evalbot\.yml is larger than 65536 bytes/),
      );

      const repo = await makeRepo({ ...FAKE_MODEL, '.evalbot.yml': 'repeats: 2\n' });
      const workRoot = await tempDir('work');
      remove(repo.dir, workRoot);
      const logLines: string[] = [];
      const gone = 'f'.repeat(40);
      const result = await evaluateCommit({
        source: { path: repo.dir, sha: repo.sha },
        side: 'head',
        workRoot,
        cacheDir: cache.path,
        maxTimeoutMs: 120_000,
        verdictSettingsFrom: { sha: gone },
        onLog: (line) => logLines.push(line),
      });
      expect(result).toMatchObject({ ok: true, config: { repeats: 1, seed: 42 } });
      expect(logLines).toContainEqual(expect.stringMatching(new RegExp(`commit ${gone} is not available`)));
    });

    it("uses the defaults, and says why, when the base's .evalbot.yml is a symlink or invalid", async () => {
      const symlinked = await evaluateHeadOver(
        { ...FAKE_MODEL, 'settings.yml': 'repeats: 2\n', '.evalbot.yml': { symlink: 'settings.yml' } },
        { '.evalbot.yml': 'repeats: 4\n' },
      );
      expect(symlinked.result.runs.map((r) => r.seed)).toEqual([42]);
      expect(symlinked.logLines).toContainEqual(
        expect.stringMatching(
          /could not read the \.evalbot\.yml of the base commit \w+ \(\.evalbot\.yml is not a regular file/,
        ),
      );
      const invalid = await evaluateHeadOver(
        { ...FAKE_MODEL, '.evalbot.yml': 'repeats: many\n' },
        { '.evalbot.yml': 'repeats: 4\n' },
      );
      expect(invalid.result.runs.map((r) => r.seed)).toEqual([42]);
      expect(invalid.logLines).toContainEqual(
        expect.stringMatching(/the \.evalbot\.yml of the base commit \w+ is invalid/),
      );
    });
  });

  it('reports a crashing run at stage run with its exit code, last error line and output tail', async () => {
    const result = await evaluate({
      'demo.py': 'print("epoch 1")\nraise ValueError("shapes (3,) and (4,) not aligned")\n',
    });
    expect(result).toMatchObject({
      ok: false,
      stage: 'run',
      message: '`python3 demo.py` exited with code 1: ValueError: shapes (3,) and (4,) not aligned',
    });
    expect(result.logTail).toContain('epoch 1');
    expect(result.logTail).toContain('Traceback (most recent call last)');
  });

  it('reports a failing setup command at stage setup', async () => {
    const result = await evaluate({
      ...FAKE_MODEL,
      '.evalbot.yml': 'setup: ["echo ok", "echo no compiler >&2; exit 3"]\n',
    });
    expect(result).toMatchObject({
      ok: false,
      stage: 'setup',
      message: '`echo no compiler >&2; exit 3` exited with code 3: no compiler',
    });
  });

  it('says where the metrics file was expected when the run did not write it', async () => {
    const result = await evaluate({ 'demo.py': 'print("forgot to write metrics")\n' });
    expect(result).toMatchObject({
      ok: false,
      stage: 'metrics',
      message:
        '`python3 demo.py` exited with code 0 but did not write `result.txt` in `.`; write the metrics there, or set metrics_file in .evalbot.yml',
    });
  });

  it('does not count a metrics file committed to the repository', async () => {
    const result = await evaluate({ 'demo.py': 'pass\n', 'result.txt': '{"accuracy": 1.0}' });
    expect(result).toMatchObject({
      ok: false,
      stage: 'metrics',
      message: expect.stringContaining('did not write'),
    });
  });

  it('reports a malformed metrics file at stage metrics, naming the file and the problem', async () => {
    const result = await evaluate({ 'demo.py': 'open("result.txt", "w").write("accuracy = 0.9")\n' });
    expect(result).toMatchObject({
      ok: false,
      stage: 'metrics',
      message:
        'the metrics file `result.txt` is neither JSON nor a Python dict literal: unexpected name "accuracy"; only numbers, strings, lists, tuples, dicts, True, False and None are read (no code is run) (line 1, column 1)',
    });
  });

  it('refuses nan metrics with a message naming the metric', async () => {
    const nan = await evaluate({ 'demo.py': `open("result.txt", "w").write(str({'loss': float('nan')}))\n` });
    expect(nan).toMatchObject({
      stage: 'metrics',
      message: "the metrics file `result.txt`: metric 'loss' is nan; write a finite number",
    });
  });

  it('refuses a metrics file that is a symlink to a file outside the working directory', async () => {
    const result = await evaluate({ 'demo.py': 'import os\nos.symlink("/etc/passwd", "result.txt")\n' });
    expect(result).toMatchObject({
      ok: false,
      stage: 'metrics',
      message: 'the metrics file `result.txt` is a symbolic link; evalbot reads only regular files',
    });
    expect(result.logTail).not.toContain('root:');
  });

  it('refuses a metrics file reached through a symlinked directory', async () => {
    const result = await evaluate({
      'demo.py': 'import os\nos.symlink("/etc", "out")\n',
      '.evalbot.yml': 'metrics_file: out/passwd\n',
    });
    expect(result).toMatchObject({
      stage: 'metrics',
      message: 'the metrics file `out/passwd` resolves outside the directory (through a symbolic link)',
    });
  });

  it('refuses a metrics file over 1 MB', async () => {
    const result = await evaluate({
      'demo.py': 'open("result.txt", "w").write("{\\"a\\": [" + ",".join(["1"] * 600000) + "]}")\n',
    });
    expect(result).toMatchObject({
      stage: 'metrics',
      message: expect.stringMatching(/over the 1048576-byte limit/),
    });
  });

  it('reports an invalid .evalbot.yml at stage config with its problems', async () => {
    const result = await evaluate({ ...FAKE_MODEL, '.evalbot.yml': 'timeout_minutes: soon\nrunn: x\n' });
    expect(result).toMatchObject({ ok: false, stage: 'config' });
    expect(result.configError).toBeInstanceOf(RepoConfigError);
    expect(result.configError?.problems.map((p) => p.key)).toEqual(
      expect.arrayContaining(['timeout_minutes', 'runn']),
    );
    expect(result).toMatchObject({ message: expect.stringContaining('`timeout_minutes`') });
    // What the worker stores and the report lists: each bad key with its fix, the error object gone.
    const outcome = toSideOutcome(result);
    expect(outcome).toMatchObject({
      ok: false,
      stage: 'config',
      configProblems: expect.arrayContaining([
        expect.objectContaining({ key: 'runn', fix: expect.any(String) }),
      ]),
    });
    expect(outcome).not.toHaveProperty('configError');
  });

  it('refuses a .evalbot.yml that is a symlink', async () => {
    const result = await evaluate({ ...FAKE_MODEL, '.evalbot.yml': { symlink: '/etc/hostname' } });
    expect(result).toMatchObject({
      ok: false,
      stage: 'config',
      message: expect.stringContaining('is a symbolic link'),
    });
  });

  it('refuses a working_directory that does not exist in the commit', async () => {
    const result = await evaluate({ ...FAKE_MODEL, '.evalbot.yml': 'working_directory: nowhere\n' });
    expect(result).toMatchObject({
      stage: 'config',
      message: expect.stringContaining('`nowhere` does not exist in this commit'),
    });
  });

  it('evaluates the given commit, not the newest one of the repository', async () => {
    const repo = await makeRepo(FAKE_MODEL);
    const workRoot = await tempDir('work');
    remove(repo.dir, workRoot);
    await commit(repo.dir, { 'demo.py': 'raise SystemExit(1)\n' });
    const result = await evaluateCommit({
      source: { path: repo.dir, sha: repo.sha },
      side: 'base',
      workRoot,
      cacheDir: cache.path,
      maxTimeoutMs: 60_000,
    });
    expect(result).toMatchObject({ ok: true, sha: repo.sha });
  });
});
