import { readdir, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { removeTree } from './file-tree.ts';
import { isProcessAlive } from './is-process-alive.ts';
import { JOB_DIR_PATTERN, type JobMarker } from './job-dir.ts';
import { killProcessesWithEnv, killProcessGroup, liveGroupMembers } from './process-group.ts';

export interface ReapResult {
  /** Job directories (and markers) removed. */
  removed: string[];
  /** Process groups of dead workers that still had live processes, now killed. */
  killedGroups: number[];
  /** Processes that had left those groups but still carried the job's HOME, now killed. */
  killedProcesses: number[];
  /** Directories that could not be removed, and why. */
  failed: { dir: string; error: string }[];
}

/**
 * Clean up after workers that died mid-job (call at worker start): for every job directory
 * under `workRoot` whose owning worker is not alive, kill the process groups its marker lists
 * and any process still carrying the job's `HOME`, and remove the directory. A group whose
 * leader pid now belongs to a newer process (pid reuse, told apart by start time) is left
 * alone. `workRoot` must be private to one host.
 */
export async function reapStaleWorkDirs(
  workRoot: string,
  opts: { isAlive?: (pid: number) => boolean } = {},
): Promise<ReapResult> {
  const isAlive = opts.isAlive ?? isProcessAlive;
  const result: ReapResult = { removed: [], killedGroups: [], killedProcesses: [], failed: [] };
  let names: string[];
  try {
    names = await readdir(workRoot);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return result;
    throw error;
  }
  const jobs = new Set(
    names.map((n) => n.replace(/\.json(\.tmp)?$/, '')).filter((n) => JOB_DIR_PATTERN.test(n)),
  );
  for (const name of jobs) {
    const pid = Number(JOB_DIR_PATTERN.exec(name)?.[1]);
    if (pid === process.pid || isAlive(pid)) continue;
    const marker = await readMarker(join(workRoot, `${name}.json`));
    for (const group of marker?.groups ?? []) {
      if (await killIfOurs(group)) result.killedGroups.push(group.pgid);
    }
    result.killedProcesses.push(...(await killProcessesWithEnv(`HOME=${join(workRoot, name, 'home')}`)));
    try {
      await removeTree(join(workRoot, name));
      await rm(join(workRoot, `${name}.json`), { force: true });
      await rm(join(workRoot, `${name}.json.tmp`), { force: true });
      result.removed.push(join(workRoot, name));
    } catch (error) {
      // One directory that cannot be removed must not stop the worker from starting.
      result.failed.push({ dir: join(workRoot, name), error: (error as Error).message });
    }
  }
  return result;
}

async function readMarker(path: string): Promise<JobMarker | undefined> {
  try {
    const marker = JSON.parse(await readFile(path, 'utf8')) as JobMarker;
    return Array.isArray(marker.groups) ? marker : undefined;
  } catch {
    return undefined;
  }
}

async function killIfOurs(group: { pgid: number; startTime?: string }): Promise<boolean> {
  if (!Number.isInteger(group.pgid) || group.pgid <= 1) return false;
  const members = await liveGroupMembers(group.pgid);
  if (members.length === 0) return false;
  // While any member lives the pgid cannot be reused; but if the leader's pid was reused by a
  // new process that made itself a group leader, its start time differs: not ours.
  const leader = members.find((m) => m.pid === group.pgid);
  if (leader && group.startTime && leader.startTime && leader.startTime !== group.startTime) return false;
  await killProcessGroup(group.pgid, { graceMs: 0 });
  return true;
}
