/** What one sandboxed step may use; each is enforced by the kernel, not by evalbot watching. */
export interface SandboxLimits {
  /** Memory of all the step's processes together (a cgroup; else each process's address space). */
  memoryBytes: number;
  /** Processes and threads alive at once (the job's own uid: `RLIMIT_NPROC`, and a cgroup's `pids.max`). */
  processes: number;
  /** The largest file a process may write (`RLIMIT_FSIZE`). */
  fileSizeBytes: number;
  /** Everything written under the job directory (checkout, home, the job's venv layer). */
  diskBytes: number;
  /** The private `/tmp` and `/dev/shm` (memory-backed, each this size at most). */
  tmpBytes: number;
}

const GiB = 1024 ** 3;

export const DEFAULT_SANDBOX_LIMITS: SandboxLimits = {
  memoryBytes: 8 * GiB,
  processes: 512,
  fileSizeBytes: 4 * GiB,
  diskBytes: 10 * GiB,
  tmpBytes: 1 * GiB,
};

/** The limit that stopped a step, named for the report. */
export type LimitHit = 'memory' | 'processes' | 'file-size' | 'disk';

/** `8 GiB`, `512 MiB`: limits as the report and the configuration state them. */
export function formatBytes(bytes: number): string {
  for (const [unit, size] of [
    ['GiB', GiB],
    ['MiB', 1024 ** 2],
    ['KiB', 1024],
  ] as const) {
    if (bytes >= size) {
      const value = bytes / size;
      return `${Number.isInteger(value) ? value : value.toFixed(1)} ${unit}`;
    }
  }
  return `${bytes} bytes`;
}

/** How the report names a limit that stopped the run, with the setting that raises it. */
export function describeLimitHit(hit: LimitHit, limits: SandboxLimits): string {
  switch (hit) {
    case 'memory':
      return `it ran out of memory: the sandbox allows ${formatBytes(limits.memoryBytes)} (EVALBOT_SANDBOX_MEMORY_MB)`;
    case 'processes':
      return `it reached the limit of ${limits.processes} processes (EVALBOT_SANDBOX_MAX_PROCESSES)`;
    case 'file-size':
      return `it wrote a file over the ${formatBytes(limits.fileSizeBytes)} limit (EVALBOT_SANDBOX_MAX_FILE_MB)`;
    case 'disk':
      return `it wrote more than the ${formatBytes(limits.diskBytes)} the job directory may hold (EVALBOT_SANDBOX_DISK_MB)`;
  }
}
