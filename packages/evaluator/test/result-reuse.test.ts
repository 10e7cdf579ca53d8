import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { SideSuccess } from '@evalbot/jobs';
import { describe, expect, it } from 'vitest';
import { type EvaluateCommitOptions, evaluateCommit, type ResultStore } from '../src/index.ts';
import { commit, fileCacheDir, git, makeRepo, removedAfterEach, tempDir } from './helpers.ts';

const remove = removedAfterEach();
const cache = fileCacheDir();

/** Results in memory, as the worker keeps them in Redis. */
function memoryStore(): ResultStore & { results: Map<string, SideSuccess> } {
  const results = new Map<string, SideSuccess>();
  const commits = new Map<string, string>();
  return {
    results,
    keyOfCommit: async (key) => commits.get(key),
    rememberCommit: async (key, resultKey) => {
      commits.set(key, resultKey);
    },
    get: async (key) => results.get(key),
    put: async (key, result) => {
      results.set(key, result);
    },
  };
}

// A different number on every run: a result that shows the same number was not run again.
const RANDOM_MODEL = {
  'requirements.txt': '# none\n',
  'demo.py':
    'import json, os, random\njson.dump({"accuracy": random.random(), "docs": int(os.path.exists("docs/notes.md"))}, open("result.txt", "w"))\n',
  '.evalbot.yml': 'ignore:\n  - docs/**\n  - "*.md"\n',
  'docs/notes.md': 'first notes\n',
};

async function evaluateIn(
  repo: { dir: string },
  sha: string,
  store: ResultStore,
  extra: Partial<EvaluateCommitOptions> = {},
) {
  const workRoot = await tempDir('work');
  remove(workRoot);
  return evaluateCommit({
    source: { path: repo.dir, sha },
    side: 'base',
    workRoot,
    cacheDir: cache.path,
    maxTimeoutMs: 120_000,
    results: { store, scope: 'repo:octo/model' },
    ...extra,
  });
}

describe('results reused by content', () => {
  it('reuses the result of a commit that differs only in ignored paths, and names that commit', async () => {
    const repo = await makeRepo(RANDOM_MODEL);
    remove(repo.dir);
    const store = memoryStore();
    const first = await evaluateIn(repo, repo.sha, store);
    expect(first).toMatchObject({ ok: true, resultReused: false });
    // The ignored file was removed before the model ran: the result cannot depend on it.
    expect(first.runs[0]?.metrics.docs).toBe(0);

    const docsOnly = await commit(repo.dir, { 'docs/notes.md': 'better notes\n', 'README.md': '# hi\n' });
    const second = await evaluateIn(repo, docsOnly, store);
    expect(second).toMatchObject({ ok: true, sha: docsOnly, resultReused: true, resultReusedFrom: repo.sha });
    expect(first.runs[0]?.metrics.accuracy).toEqual(expect.any(Number));
    expect(second.runs[0]?.metrics.accuracy).toBe(first.runs[0]?.metrics.accuracy);

    const codeChange = await commit(repo.dir, { 'demo.py': `${RANDOM_MODEL['demo.py']}# tuned\n` });
    const third = await evaluateIn(repo, codeChange, store);
    expect(third).toMatchObject({ ok: true, resultReused: false });
    expect(third.runs[0]?.metrics.accuracy).not.toBe(first.runs[0]?.metrics.accuracy);
  });

  it('neither keeps nor reuses a result when a file name is not UTF-8 (ignore: could not remove it, and the key could not tell it apart)', async () => {
    // The model reads docs/ by raw bytes: a flag file there changes its result.
    const model = {
      ...RANDOM_MODEL,
      'demo.py':
        'import json, os\nflag = any(n.startswith(b"\\xff") for n in os.listdir(b"docs"))\njson.dump({"accuracy": 0.99 if flag else 0.5}, open("result.txt", "w"))\n',
    };
    const repo = await makeRepo(model);
    remove(repo.dir);
    await writeFile(
      Buffer.concat([Buffer.from(`${join(repo.dir, 'docs')}/`), Buffer.from([0xff]), Buffer.from('.md')]),
      'flag',
    );
    await git(repo.dir, 'add', '-A');
    await git(repo.dir, 'commit', '-q', '-m', 'a flag under an ignored path');
    const flagged = await git(repo.dir, 'rev-parse', 'HEAD');
    const store = memoryStore();
    const first = await evaluateIn(repo, flagged, store);
    expect(first).toMatchObject({ ok: true, resultReused: false });
    expect(first.logTail).toContain('is not UTF-8: this result is neither reused nor kept for reuse');
    expect(store.results.size).toBe(0);

    // The same kept files without the flag: run for real, not shown the flagged result.
    const clean = await makeRepo(model);
    remove(clean.dir);
    const second = await evaluateIn(clean, clean.sha, store);
    expect(second).toMatchObject({ ok: true, resultReused: false, runs: [{ metrics: { accuracy: 0.5 } }] });
  });

  it('finds an evaluated commit again without fetching it', async () => {
    const repo = await makeRepo(RANDOM_MODEL);
    remove(repo.dir);
    const store = memoryStore();
    const first = await evaluateIn(repo, repo.sha, store);
    const progress: string[] = [];
    const again = await evaluateIn(repo, repo.sha, store, { onProgress: (p) => progress.push(p.stage) });
    expect(again).toMatchObject({ ok: true, resultReused: true, runs: first.runs });
    expect(progress).not.toContain('clone');
  });

  it('never stores a failed run, so a later evaluation runs again', async () => {
    const repo = await makeRepo({ ...RANDOM_MODEL, 'demo.py': 'raise SystemExit(2)\n' });
    remove(repo.dir);
    const store = memoryStore();
    expect(await evaluateIn(repo, repo.sha, store)).toMatchObject({ ok: false, stage: 'run' });
    expect(store.results.size).toBe(0);
  });

  it('keeps the head and the base apart: the same content on the other side is run again', async () => {
    const repo = await makeRepo(RANDOM_MODEL);
    remove(repo.dir);
    const store = memoryStore();
    await evaluateIn(repo, repo.sha, store);
    const asHead = await evaluateIn(repo, repo.sha, store, { side: 'head' });
    expect(asHead).toMatchObject({ ok: true, resultReused: false });
  });

  it("trains the head again when the base moves to another pool (resources), and reuses it while the base's pool stays", async () => {
    const repo = await makeRepo(RANDOM_MODEL);
    remove(repo.dir);
    const store = memoryStore();
    const baseOnCpu = repo.sha;
    const head = await commit(repo.dir, { 'demo.py': `${RANDOM_MODEL['demo.py']}# the PR\n` });
    const headOver = (base: string) =>
      evaluateIn(repo, head, store, { side: 'head', verdictSettingsFrom: { sha: base } });
    const first = await headOver(baseOnCpu);
    expect(first).toMatchObject({ ok: true, resultReused: false });

    // Later base commits (the head's sha is the same): one that moves nothing, one that asks for a GPU.
    await git(repo.dir, 'checkout', '-q', '-b', 'later-bases', baseOnCpu);
    const stillCpu = await commit(repo.dir, { 'README.md': '# still on CPUs\n' });
    const onGpu = await commit(repo.dir, {
      '.evalbot.yml': `${RANDOM_MODEL['.evalbot.yml']}resources:\n  gpu: 1\n`,
    });
    const sameSettings = await headOver(stillCpu);
    expect(sameSettings).toMatchObject({ ok: true, resultReused: true, resultReusedFrom: head });
    expect(sameSettings.runs[0]?.metrics.accuracy).toBe(first.runs[0]?.metrics.accuracy);

    const gpu = await headOver(onGpu);
    expect(gpu).toMatchObject({ ok: true, resultReused: false });
    expect(gpu.runs[0]?.metrics.accuracy).not.toBe(first.runs[0]?.metrics.accuracy);
  });

  it('trains again when an ignored .gitattributes changes (git reads it at checkout), and checks files out as committed', async () => {
    const repo = await makeRepo({
      'requirements.txt': '# none\n',
      'data.txt': 'a\nb\n',
      'demo.py':
        'import json\nd = open("data.txt", "rb").read()\njson.dump({"crlf": int(b"\\r\\n" in d), "bytes": len(d)}, open("result.txt", "w"))\n',
      // "Ignore git's plumbing files": .gitignore, .github/, and .gitattributes with them.
      '.evalbot.yml': 'ignore:\n  - ".git*"\n',
    });
    remove(repo.dir);
    const store = memoryStore();
    const first = await evaluateIn(repo, repo.sha, store);
    expect(first).toMatchObject({ ok: true, runs: [{ metrics: { crlf: 0, bytes: 4 } }] });
    const changed = await commit(repo.dir, { '.gitattributes': 'data.txt text eol=crlf\n' });
    const second = await evaluateIn(repo, changed, store);
    expect(second.resultReused).toBeFalsy();
    // Line endings are not converted: the worker's checkout writes what the commit holds.
    expect(second).toMatchObject({ ok: true, runs: [{ metrics: { crlf: 0, bytes: 4 } }] });
  }, 200_000);
});
