import { existsSync } from 'node:fs';
import { cp } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { evaluateCommit } from '../src/index.ts';
import { fileCacheDir, git, leftovers, removedAfterEach, tempDir } from './helpers.ts';

const ML_DEMO = join(import.meta.dirname, '..', '..', '..', 'ml-demo');
const remove = removedAfterEach();
const cache = fileCacheDir();

describe('the real ml-demo model', () => {
  // Installs tensorflow-cpu from the local index (cached in EVALBOT_CACHE_DIR) and trains ~1 min.
  // A missing ml-demo/demo.py is a broken checkout: the test fails, it does not skip.
  it(
    'trains with the default contract and reports its metrics, history and package versions',
    async () => {
      const repo = await tempDir('ml-demo');
      const workRoot = await tempDir('work');
      remove(repo, workRoot);
      expect(
        existsSync(join(ML_DEMO, 'demo.py')),
        `${ML_DEMO}/demo.py is missing: restore it (git checkout -- ml-demo)`,
      ).toBe(true);
      const skip = new Set(['node_modules', '__pycache__', '.venv', '.ruff_cache', 'result.txt', 'test']);
      await cp(ML_DEMO, repo, { recursive: true, filter: (src) => !skip.has(basename(src)) });
      await git(repo, 'init', '-q', '-b', 'main', '.');
      await git(repo, 'add', '-A');
      await git(repo, 'commit', '-q', '-m', 'ml-demo');
      const sha = await git(repo, 'rev-parse', 'HEAD');

      const result = await evaluateCommit({
        source: { path: repo, sha },
        side: 'base',
        workRoot,
        cacheDir: cache.path,
        maxTimeoutMs: 15 * 60_000,
      });
      console.info(
        `ml-demo: durations ${JSON.stringify(result.durations)}, environment reused: ${result.environmentReused}`,
      );
      expect(result, result.ok ? '' : `${result.message}\n${result.logTail}`).toMatchObject({
        ok: true,
        environment: {
          python: expect.stringMatching(/^3\./),
          packages: {
            'tensorflow-cpu': expect.stringMatching(/^2\./),
            keras: expect.stringMatching(/^3\./),
            numpy: expect.any(String),
          },
        },
      });
      const [run] = result.runs;
      expect(run?.seed).toBe(42);
      expect(run?.metrics.accuracy).toBeGreaterThan(0.8);
      expect(run?.metrics.loss).toBeGreaterThan(0);
      expect(run?.history.loss?.length).toBeGreaterThan(0);
      expect(await leftovers(workRoot)).toEqual([]);
    },
    15 * 60_000,
  );
});
