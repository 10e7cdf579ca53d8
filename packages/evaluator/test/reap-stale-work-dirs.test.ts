import { randomInt } from 'node:crypto';
import { mkdir, readdir, writeFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { processesWithCmdline, waitFor } from '@evalbot/test-utils';
import { execa } from 'execa';
import { afterEach, describe, expect, it } from 'vitest';
import { reapStaleWorkDirs } from '../src/index.ts';
import { createJobDir } from '../src/job-dir.ts';
import { killProcessGroup } from '../src/process-group.ts';
import { currentProcessIdentity } from '../src/process-identity.ts';
import {
  evaluateInChild,
  fileCacheDir,
  groupMembers,
  makeRepo,
  removedAfterEach,
  tempDir,
} from './helpers.ts';

const remove = removedAfterEach();
const cache = fileCacheDir();
const groups: number[] = [];
// Registered after removedAfterEach's, so it runs first (after-hooks run in reverse order).
afterEach(async () => {
  for (const pgid of groups.splice(0)) await killProcessGroup(pgid, { graceMs: 0 });
});

describe('reapStaleWorkDirs', () => {
  it("ends a dead worker's sandboxed processes with it, and removes its job directory", async () => {
    const sleep = `1000.${randomInt(1e9)}`;
    const escaped = `1000.${randomInt(1e9)}`;
    const repo = await makeRepo({
      'requirements.txt': '',
      'demo.py': `import subprocess\nsubprocess.Popen(["sleep", "${sleep}"])\nsubprocess.Popen(["setsid", "sleep", "${escaped}"])\nsubprocess.run(["sleep", "${sleep}"])\n`,
    });
    const workRoot = await tempDir('work');
    remove(repo.dir, workRoot);
    const worker = evaluateInChild(repo, workRoot, cache.path, { reject: false });
    // The model is running: then the worker dies without any chance to clean up.
    await waitFor(async () => (await processesWithCmdline(`sleep ${escaped}`)).length === 1, {
      timeoutMs: 120_000,
    });
    worker.kill('SIGKILL');
    await worker;
    // bubblewrap dies with its parent and takes the step's pid namespace along, setsid included.
    await waitFor(async () => (await processesWithCmdline(`sleep ${sleep}`)).length === 0);
    expect(await processesWithCmdline(`sleep ${escaped}`)).toEqual([]);
    const left = await readdir(workRoot);
    expect(left).toHaveLength(2); // evalbot-<pid>-<hex> and its .json marker

    const reaped = await reapStaleWorkDirs(workRoot);
    expect(reaped.removed).toEqual([join(workRoot, left.find((n) => !n.endsWith('.json')) ?? '')]);
    expect(await readdir(workRoot)).toEqual([]);
  }, 180_000);

  it('leaves the directories of live workers alone', async () => {
    const workRoot = await tempDir('work');
    remove(workRoot);
    await mkdir(join(workRoot, 'evalbot-4242-abcdef'));
    await writeFile(join(workRoot, 'evalbot-4242-abcdef.json'), JSON.stringify({ pid: 4242, groups: [] }));
    await mkdir(join(workRoot, 'not-a-job-dir'));
    const reaped = await reapStaleWorkDirs(workRoot, { isAlive: (pid) => pid === 4242 });
    expect(reaped).toEqual({ removed: [], killedGroups: [], killedProcesses: [], failed: [] });
    expect((await readdir(workRoot)).sort()).toEqual([
      'evalbot-4242-abcdef',
      'evalbot-4242-abcdef.json',
      'not-a-job-dir',
    ]);
  });

  it('does not kill a process group whose leader pid now belongs to a newer process', async () => {
    const workRoot = await tempDir('work');
    remove(workRoot);
    const stranger = execa('sleep', ['60'], { detached: true, reject: false });
    const pgid = stranger.pid ?? 0;
    groups.push(pgid);
    await mkdir(join(workRoot, 'evalbot-4243-abcdef'));
    await writeFile(
      join(workRoot, 'evalbot-4243-abcdef.json'),
      JSON.stringify({ pid: 4243, groups: [{ pgid, startTime: '1' }] }),
    );
    const reaped = await reapStaleWorkDirs(workRoot, { isAlive: () => false });
    expect(reaped).toEqual({
      removed: [join(workRoot, 'evalbot-4243-abcdef')],
      killedGroups: [],
      killedProcesses: [],
      failed: [],
    });
    expect(await groupMembers(pgid)).toEqual([pgid]);
  });

  it('reaps the directories an earlier run with the same pid left (a container restarted under tini), not its own', async () => {
    const workRoot = await tempDir('work');
    remove(workRoot);
    const mine = await createJobDir(workRoot);
    const me = currentProcessIdentity();
    const earlier = `evalbot-${process.pid}-0123456789ab`;
    await mkdir(join(workRoot, earlier));
    await writeFile(
      join(workRoot, `${earlier}.json`),
      JSON.stringify({ ...me, startTime: String(Number(me.startTime) - 1), groups: [] }),
    );
    const reaped = await reapStaleWorkDirs(workRoot);
    expect(reaped.removed).toEqual([join(workRoot, earlier)]);
    expect((await readdir(workRoot)).sort()).toEqual([basename(mine.root), `${basename(mine.root)}.json`]);
  });

  it('returns nothing to do for a work root that does not exist yet', async () => {
    expect(await reapStaleWorkDirs('/nonexistent/evalbot-work')).toEqual({
      removed: [],
      killedGroups: [],
      killedProcesses: [],
      failed: [],
    });
  });
});
