import { randomBytes } from 'node:crypto';
import { access, mkdir, readFile, rmdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { LimitHit } from './sandbox-limits.ts';

/** Where this host lets the worker make cgroups: the unified hierarchy, or v1's memory and pids. */
export type CgroupHierarchy =
  | { version: 2; parent: string }
  | { version: 1; memoryParent: string; pidsParent: string };

/** One step's cgroup: its processes join it before anything of the PR runs. */
export interface StepCgroup {
  /** `cgroup.procs` files the step's first process writes itself into. */
  procsFiles: string[];
  /** The memory or process limit that was hit, if one was. */
  limitHit(): Promise<LimitHit | undefined>;
  /** The host pids of the step's processes now. */
  pids(): Promise<number[]>;
  remove(): Promise<void>;
}

const ROOT = '/sys/fs/cgroup';
const PARENT = 'evalbot';

/**
 * The cgroup hierarchy the worker may use, or undefined where it cannot make cgroups (not
 * root, a read-only `/sys/fs/cgroup` in a container): then memory is bounded per process
 * instead (`RLIMIT_AS`) and processes by the job's uid alone.
 */
export async function findCgroupHierarchy(root = ROOT): Promise<CgroupHierarchy | undefined> {
  try {
    if (await exists(join(root, 'cgroup.controllers'))) {
      const parent = join(root, PARENT);
      await mkdir(parent, { recursive: true });
      // Children of `evalbot` get memory and pids; `evalbot` itself holds no process, as v2 requires.
      await writeFile(join(root, 'cgroup.subtree_control'), '+memory +pids').catch(() => {});
      await writeFile(join(parent, 'cgroup.subtree_control'), '+memory +pids');
      return { version: 2, parent };
    }
    const memoryParent = join(root, 'memory', PARENT);
    const pidsParent = join(root, 'pids', PARENT);
    await mkdir(memoryParent, { recursive: true });
    await mkdir(pidsParent, { recursive: true });
    await access(join(memoryParent, 'cgroup.procs'), 2);
    await access(join(pidsParent, 'cgroup.procs'), 2);
    return { version: 1, memoryParent, pidsParent };
  } catch {
    return undefined;
  }
}

/** Make a cgroup for one step with `memoryBytes` and `processes` as its limits. */
export async function createStepCgroup(
  hierarchy: CgroupHierarchy,
  limits: { memoryBytes: number; processes: number },
): Promise<StepCgroup> {
  const name = `step-${process.pid}-${randomBytes(6).toString('hex')}`;
  if (hierarchy.version === 2) {
    const dir = join(hierarchy.parent, name);
    await mkdir(dir);
    await writeFile(join(dir, 'memory.max'), String(limits.memoryBytes));
    // Swap would let a step past its memory limit at the host's expense.
    await writeFile(join(dir, 'memory.swap.max'), '0').catch(() => {});
    await writeFile(join(dir, 'pids.max'), String(limits.processes));
    return {
      procsFiles: [join(dir, 'cgroup.procs')],
      limitHit: async () => {
        if ((await counter(join(dir, 'memory.events'), 'oom_kill')) > 0) return 'memory';
        if ((await counter(join(dir, 'pids.events'), 'max')) > 0) return 'processes';
        return undefined;
      },
      pids: () => pidsIn(join(dir, 'cgroup.procs')),
      remove: () => removeCgroup(dir),
    };
  }
  const memory = join(hierarchy.memoryParent, name);
  const pids = join(hierarchy.pidsParent, name);
  await mkdir(memory);
  await mkdir(pids);
  await writeFile(join(memory, 'memory.limit_in_bytes'), String(limits.memoryBytes));
  await writeFile(join(memory, 'memory.memsw.limit_in_bytes'), String(limits.memoryBytes)).catch(() => {});
  await writeFile(join(pids, 'pids.max'), String(limits.processes));
  return {
    procsFiles: [join(memory, 'cgroup.procs'), join(pids, 'cgroup.procs')],
    limitHit: async () => {
      if ((await counter(join(memory, 'memory.oom_control'), 'oom_kill')) > 0) return 'memory';
      if ((await counter(join(pids, 'pids.events'), 'max')) > 0) return 'processes';
      return undefined;
    },
    pids: () => pidsIn(join(pids, 'cgroup.procs')),
    remove: async () => {
      await removeCgroup(memory);
      await removeCgroup(pids);
    },
  };
}

async function pidsIn(procs: string): Promise<number[]> {
  const text = await readFile(procs, 'utf8').catch(() => '');
  return text.split('\n').filter(Boolean).map(Number);
}

/** `key N` from a flat-keyed cgroup file; 0 when absent. */
async function counter(file: string, key: string): Promise<number> {
  const text = await readFile(file, 'utf8').catch(() => '');
  const line = text.split('\n').find((l) => l.startsWith(`${key} `));
  return line ? Number(line.slice(key.length + 1)) || 0 : 0;
}

/** A cgroup can be removed once its last process is reaped, which may trail its exit briefly. */
async function removeCgroup(dir: string): Promise<void> {
  for (let attempt = 0; attempt < 50; attempt++) {
    try {
      await rmdir(dir);
      return;
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code === 'ENOENT') return;
      if (code !== 'EBUSY') throw error;
      await sleep(20);
    }
  }
}

async function exists(path: string): Promise<boolean> {
  return access(path).then(
    () => true,
    () => false,
  );
}
