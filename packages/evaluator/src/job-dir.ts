import { randomBytes } from 'node:crypto';
import { readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { removeTree } from './file-tree.ts';
import { currentProcessIdentity, type ProcessIdentity } from './process-identity.ts';

/** `evalbot-<worker pid>-<hex>`: the directory of one evaluation, and `<same>.json` its marker. */
export const JOB_DIR_PATTERN = /^evalbot-(\d+)-([0-9a-f]+)$/;

/** What the marker next to a job directory records, for {@link reapStaleWorkDirs}. */
export interface JobMarker extends ProcessIdentity {
  createdAt: string;
  /** Process groups of commands running now; `startTime` identifies the group leader across pid reuse. */
  groups: { pgid: number; startTime?: string }[];
}

export interface JobDir {
  root: string;
  checkout: string;
  home: string;
  tmp: string;
  gitHome: string;
  venv: string;
  /** Wheels the worker downloads for the job; read-only in the sandbox. */
  wheels: string;
  /** Record a command's process group in the marker (and forget it when it is gone). */
  trackGroup(event: 'start' | 'end', pgid: number): void;
  /** Remove the directory and its marker. */
  remove(): Promise<void>;
}

/**
 * Create a job directory under `workRoot`. Its marker lives beside it, in `workRoot`, where
 * PR code (which may run as another user and owns the job directory) cannot rewrite it.
 */
export async function createJobDir(workRoot: string): Promise<JobDir> {
  await mkdir(workRoot, { recursive: true });
  const name = `evalbot-${process.pid}-${randomBytes(6).toString('hex')}`;
  const root = join(workRoot, name);
  const markerPath = `${root}.json`;
  const marker: JobMarker = {
    ...currentProcessIdentity(),
    createdAt: new Date().toISOString(),
    groups: [],
  };
  // Synchronous writes: the marker must be on disk before anything can outlive this worker.
  const save = () => {
    writeFileSync(`${markerPath}.tmp`, JSON.stringify(marker));
    renameSync(`${markerPath}.tmp`, markerPath);
  };
  save();
  await mkdir(root, { mode: 0o700 });
  const dir = {
    root,
    checkout: join(root, 'checkout'),
    home: join(root, 'home'),
    tmp: join(root, 'tmp'),
    gitHome: join(root, 'git-home'),
    venv: join(root, 'venv'),
    wheels: join(root, 'wheels'),
  };
  await Promise.all([dir.home, dir.tmp, dir.gitHome].map((d) => mkdir(d)));
  return {
    ...dir,
    trackGroup(event, pgid) {
      marker.groups = marker.groups.filter((g) => g.pgid !== pgid);
      if (event === 'start') marker.groups.push({ pgid, ...startTimeOf(pgid) });
      save();
    },
    async remove() {
      await removeTree(root);
      rmSync(markerPath, { force: true });
    },
  };
}

function startTimeOf(pid: number): { startTime?: string } {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const startTime = stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19];
    return startTime ? { startTime } : {};
  } catch {
    return {};
  }
}
