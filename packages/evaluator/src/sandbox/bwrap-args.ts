import type { SystemEntry } from './host-layout.ts';
import type { SandboxLimits } from './sandbox-limits.ts';

/** What one step sees of the filesystem besides the system; each path appears where it is on the host. */
export interface SandboxView {
  /** Bound read-only: the interpreter, a shared environment, downloaded wheels. */
  readOnly: string[];
  /** Bound read-write: the job's checkout, home and own venv layer (and a shared build's directory). */
  writable: string[];
  cwd: string;
  /**
   * The GPUs this step may use, as its CUDA_VISIBLE_DEVICES names them (indexes or UUIDs):
   * only their device nodes (and NVIDIA's control nodes) are bound. None: no NVIDIA node at all,
   * so a step cannot unset CUDA_VISIBLE_DEVICES and reach GPUs leased to other trainings.
   */
  gpus?: string[];
}

/**
 * bubblewrap's arguments for one step: each isolation property is one setting here, and
 * `test/sandbox-attacks.test.ts` shows the attack each one stops.
 */
export function bwrapArgs(opts: {
  system: SystemEntry[];
  view: SandboxView;
  identity: { uid: number; gid: number };
  limits: Pick<SandboxLimits, 'tmpBytes'>;
}): string[] {
  const { view, identity, limits } = opts;
  const args: string[] = [
    // Network: a namespace of its own holding only loopback, so neither Redis, the gateway,
    // the dashboard, the workers' metrics nor any other address (metadata services) is reachable.
    '--unshare-net',
    // Processes: a pid namespace of its own. When the step's command ends, bubblewrap's init
    // (pid 1) exits and the kernel kills everything left in it: daemons, double forks, setsid.
    // It cannot see or signal any process outside, and its /proc is its own.
    '--unshare-pid',
    '--die-with-parent',
    // Identity: a user namespace mapping the job's own uid (and gid) to itself: no capabilities
    // outside, never root, never the worker; no nested user namespaces to look for kernel bugs in.
    '--unshare-user',
    '--uid',
    String(identity.uid),
    '--gid',
    String(identity.gid),
    '--disable-userns',
    // The rest of the namespaces: System V IPC and shared memory, host name, cgroup view.
    '--unshare-ipc',
    '--unshare-uts',
    '--hostname',
    'evalbot-sandbox',
    '--unshare-cgroup-try',
    // A session of its own: no terminal to push keystrokes into (TIOCSTI).
    '--new-session',
    // Filesystem: an empty root; the system read-only; /proc of its own pid namespace; a
    // minimal /dev; a private, size-capped /tmp and /dev/shm that vanish with the step.
  ];
  const devices: string[] = [];
  for (const entry of opts.system) {
    if ('symlink' in entry) args.push('--symlink', entry.symlink, entry.path);
    else if ('device' in entry) devices.push(entry.path);
    else args.push('--ro-bind', entry.path, entry.path);
  }
  args.push('--proc', '/proc', '--dev', '/dev');
  // GPUs only (see host-layout.ts), bound after the minimal /dev is laid out: the step's own.
  for (const device of gpuNodesOf(devices, view.gpus ?? [])) args.push('--dev-bind', device, device);
  for (const tmp of ['/tmp', '/dev/shm']) {
    args.push('--perms', '1777', '--size', String(limits.tmpBytes), '--tmpfs', tmp);
  }
  // The job's own paths, at the same place as on the host (virtual environments hold absolute
  // paths). Nothing else: no other job's directory, no cache, no worker file.
  for (const path of view.readOnly) args.push('--ro-bind', path, path);
  for (const path of view.writable) args.push('--bind', path, path);
  // The root itself (and the directories bubblewrap made in it) read-only once laid out.
  args.push('--remount-ro', '/', '--chdir', view.cwd);
  return args;
}

/**
 * The NVIDIA device nodes a step with `gpus` gets: `/dev/nvidia<N>` for each index it was given
 * and the control nodes (`nvidiactl`, `nvidia-uvm`…) every CUDA program opens. A GPU named by
 * UUID cannot be told from the nodes here, so with one, every `/dev/nvidia<N>` is bound and
 * CUDA_VISIBLE_DEVICES alone picks it (docs/operations.md says to list GPUs by index).
 */
export function gpuNodesOf(devices: string[], gpus: string[]): string[] {
  if (gpus.length === 0) return [];
  const byUuid = gpus.some((gpu) => !/^\d+$/.test(gpu));
  return devices.filter((device) => {
    const index = /^\/dev\/nvidia(\d+)$/.exec(device)?.[1];
    return index === undefined || byUuid || gpus.includes(index);
  });
}
