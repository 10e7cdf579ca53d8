import { readdir, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { removeTree } from './file-tree.ts';
import { isProcessAlive } from './is-process-alive.ts';
import { JOB_DIR_PATTERN, type JobMarker } from './job-dir.ts';
import { killProcessesWithEnv, killProcessGroup, liveGroupMembers } from './process-group.ts';
import { holderState } from './process-identity.ts';

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
 * alone. A marker names its worker by pid, boot and start time, so the directories of a worker
 * that crashed and came back with the same pid (a container restarted under tini) are reaped
 * too. `workRoot` must be private to one host (or container): a marker from another hostname is
 * taken for an earlier container's, whose volume this one inherited.
 */
export async function reapStaleWorkDirs(
  workRoot: string,
  opts: { isAlive?: (pid: number) => boolean } = {},
): Promise<ReapResult> {
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
    const marker = await readMarker(join(workRoot, `${name}.json`));
    if (isOwnerAlive(pid, marker, opts.isAlive)) continue;
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

/**
 * Whether the worker that made a job directory still runs. `isAlive` (tests) decides by pid
 * alone; so do markers written before they recorded a start time.
 */
function isOwnerAlive(
  pid: number,
  marker: JobMarker | undefined,
  isAlive: ((pid: number) => boolean) | undefined,
): boolean {
  if (isAlive || !marker?.startTime) return pid === process.pid || (isAlive ?? isProcessAlive)(pid);
  return holderState({ ...marker, pid }) === 'alive';
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
