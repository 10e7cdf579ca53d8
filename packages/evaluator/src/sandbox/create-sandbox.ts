import { constants } from 'node:fs';
import { access, readdir, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { bwrapArgs, type SandboxView } from './bwrap-args.ts';
import { hasGpuDevices, readSystemLayout, type SystemEntry } from './host-layout.ts';
import { DEFAULT_SANDBOX_LIMITS, type SandboxLimits } from './sandbox-limits.ts';
import { SandboxUnavailableError } from './sandbox-unavailable-error.ts';
import {
  type CgroupHierarchy,
  createStepCgroup,
  findCgroupHierarchy,
  type StepCgroup,
} from './step-cgroup.ts';
import { leaseUid, type UidLease, type UidRange } from './uid-lease.ts';

export interface SandboxSettings {
  /** Uids for PR code when the worker is root, one per running job; none may belong to an account. */
  uids: UidRange;
  limits: SandboxLimits;
  /**
   * Where uid leases are kept: shared by every worker that runs PR code on this host (the
   * compose workers share their cache volume). Default `<tmpdir>/evalbot-sandbox-uids`.
   */
  leaseDir: string;
  /** A lease of another host (a shared volume) is taken over after this long. Default 24 h. */
  foreignLeaseStaleMs: number;
}

export const DEFAULT_SANDBOX_UIDS: UidRange = { first: 50000, last: 50999 };

/** One job's identity in the sandbox; released when the job's last process is gone. */
export interface SandboxIdentity {
  uid: number;
  gid: number;
  release(): Promise<void>;
}

/** A command ready to spawn: the whole chain, and the cgroup its processes join. */
export interface SandboxedCommand {
  argv: [string, ...string[]];
  cgroup: StepCgroup | undefined;
}

/** The sandbox every command from a repository runs in (see `bwrap-args.ts`). */
export interface Sandbox {
  readonly limits: SandboxLimits;
  /** How the limits are enforced here, for the worker's start-up log. */
  readonly description: string;
  /** A uid of its own for one job (root worker), or the worker's own (see docs/operations.md). */
  leaseIdentity(): Promise<SandboxIdentity>;
  /** The command chain for one step: cgroup → limits → identity → bubblewrap → `argv`. */
  command(argv: string[], view: SandboxView, identity: SandboxIdentity): Promise<SandboxedCommand>;
}

interface Tools {
  sh: string;
  prlimit: string;
  setpriv: string;
  bwrap: string;
}

/**
 * Where this host's sandbox uid leases live (under the cache directory, which compose workers
 * share) and when another process's lease counts as stale (it outlived twice the longest job):
 * the worker and `evalbot compare` take them from here, so on one machine they never share a uid.
 */
export function sandboxLeaseSettings(
  cacheDir: string,
  maxTimeoutMs: number,
): Pick<SandboxSettings, 'leaseDir' | 'foreignLeaseStaleMs'> {
  return { leaseDir: join(cacheDir, 'sandbox-uids'), foreignLeaseStaleMs: 2 * maxTimeoutMs + 3600_000 };
}

/**
 * Find bubblewrap and util-linux's `prlimit`/`setpriv`, check that this host lets a sandbox
 * uid make the namespaces (one real sandboxed `true`), and return the sandbox. Throws
 * {@link SandboxUnavailableError} naming what is missing and how to provide it: a worker that
 * cannot contain PR code must not start.
 */
export async function createSandbox(settings: Partial<SandboxSettings> = {}): Promise<Sandbox> {
  const limits = { ...DEFAULT_SANDBOX_LIMITS, ...settings.limits };
  const uids = settings.uids ?? DEFAULT_SANDBOX_UIDS;
  const leases = {
    dir: settings.leaseDir ?? join(tmpdir(), 'evalbot-sandbox-uids'),
    foreignStaleMs: settings.foreignLeaseStaleMs ?? 24 * 3600_000,
  };
  const root = process.getuid?.() === 0;
  if (process.platform !== 'linux') {
    throw new SandboxUnavailableError(
      `the sandbox for PR code needs Linux namespaces; this is ${process.platform}. Run the worker on Linux (or in the Docker image)`,
    );
  }
  if (root) await assertNoAccountIn(uids);
  const tools = await findTools();
  const system = await readSystemLayout();
  const cgroups = root ? await findCgroupHierarchy() : undefined;
  const sandbox = new BubblewrapSandbox(tools, system, limits, uids, leases, root, cgroups);
  await sandbox.selfTest();
  return sandbox;
}

class BubblewrapSandbox implements Sandbox {
  readonly description: string;

  constructor(
    private readonly tools: Tools,
    private readonly system: SystemEntry[],
    readonly limits: SandboxLimits,
    private readonly uids: UidRange,
    private readonly leases: { dir: string; foreignStaleMs: number },
    private readonly root: boolean,
    private readonly cgroups: CgroupHierarchy | undefined,
  ) {
    this.description = [
      `bubblewrap (${tools.bwrap})`,
      root
        ? `a uid of its own per job (${uids.first}-${uids.last})`
        : "the worker's own uid (not root: no per-job uids)",
      cgroups
        ? `memory and processes by cgroup v${cgroups.version}`
        : 'memory by address space per process, processes by uid (no writable cgroup hierarchy)',
    ].join('; ');
  }

  async leaseIdentity(): Promise<SandboxIdentity> {
    if (!this.root) {
      const uid = process.getuid?.() ?? 0;
      const gid = process.getgid?.() ?? 0;
      return { uid, gid, release: async () => {} };
    }
    const lease: UidLease = await leaseUid(this.leases.dir, this.uids, this.leases);
    return { uid: lease.uid, gid: lease.uid, release: lease.release };
  }

  async command(argv: string[], view: SandboxView, identity: SandboxIdentity): Promise<SandboxedCommand> {
    const { tools, limits } = this;
    const cgroup = this.cgroups ? await createStepCgroup(this.cgroups, limits) : undefined;
    const chain: string[] = [];
    if (cgroup) {
      // The first process joins the step's cgroups as root, before it forks anything.
      chain.push(
        tools.sh,
        '-c',
        'n=$1; shift; while [ "$n" -gt 0 ]; do echo $$ > "$1" || exit 125; shift; n=$((n - 1)); done; exec "$@"',
        'sh',
        String(cgroup.procsFiles.length),
        ...cgroup.procsFiles,
      );
    }
    // Kernel limits, inherited by every process of the step and not raisable by it.
    // With a cgroup, pids.max is the limit (and counts the hit); the uid's RLIMIT_NPROC stays a
    // backstop above it. Not root: the worker's uid already runs processes of its own.
    const processes = cgroup
      ? 2 * limits.processes
      : this.root
        ? limits.processes
        : limits.processes + (await countOwnThreads());
    chain.push(
      tools.prlimit,
      `--nproc=${processes}`,
      `--fsize=${limits.fileSizeBytes}`,
      '--core=0',
      // Without a cgroup, memory is bounded per process by its address space; CUDA reserves
      // far more address space than it uses, so GPU hosts rely on the container's limit.
      ...(cgroup || hasGpuDevices(this.system) ? [] : [`--as=${limits.memoryBytes}`]),
      '--',
    );
    if (this.root) {
      // The job's uid outside the sandbox too: bubblewrap starts unprivileged and maps it to itself.
      chain.push(tools.setpriv, `--reuid=${identity.uid}`, `--regid=${identity.gid}`, '--clear-groups', '--');
    }
    chain.push(
      tools.bwrap,
      ...bwrapArgs({ system: this.system, view, identity, limits }),
      // fd 3: bubblewrap reports its init's pid there, which the evaluator kills to end the step.
      '--info-fd',
      '3',
      '--',
      ...argv,
    );
    return { argv: chain as [string, ...string[]], cgroup };
  }

  /** One sandboxed `true` as a sandbox uid: proves namespaces, mounts and limits work here. */
  async selfTest(): Promise<void> {
    const identity = await this.leaseIdentity();
    try {
      const { argv, cgroup } = await this.command(
        ['/bin/sh', '-c', 'exit 0'],
        { readOnly: [], writable: [], cwd: '/' },
        identity,
      );
      const [file, ...args] = argv;
      const result = await execa(file, args, {
        env: { PATH: '/usr/bin:/bin' },
        extendEnv: false,
        stdio: ['ignore', 'pipe', 'pipe', 'pipe'],
        reject: false,
        timeout: 30_000,
      });
      await cgroup?.remove();
      if (result.exitCode !== 0) {
        throw new SandboxUnavailableError(
          `the sandbox for PR code cannot start here: ${String(result.stderr).trim() || result.shortMessage}. ` +
            'bubblewrap needs unprivileged user namespaces: on the host, `sysctl -w kernel.unprivileged_userns_clone=1` ' +
            '(Debian before 11) or `user.max_user_namespaces` above 0, and on Ubuntu 23.10+ ' +
            '`kernel.apparmor_restrict_unprivileged_userns=0`; in Docker, the seccomp profile shipped as ' +
            'deploy/seccomp-worker.json (see docs/operations.md). EVALBOT_UNSAFE_NO_SANDBOX=1 runs PR code uncontained, ' +
            'for local experiments with your own code only',
        );
      }
    } finally {
      await identity.release();
    }
  }
}

async function findTools(): Promise<Tools> {
  const found: Partial<Tools> = {};
  const missing: string[] = [];
  for (const [name, pkg] of [
    ['bwrap', 'bubblewrap'],
    ['prlimit', 'util-linux'],
    ['setpriv', 'util-linux'],
    ['sh', 'dash'],
  ] as const) {
    const path = await which(name);
    if (path) found[name === 'bwrap' ? 'bwrap' : name] = path;
    else missing.push(`${name} (Debian package ${pkg})`);
  }
  if (missing.length > 0) {
    throw new SandboxUnavailableError(
      `the sandbox for PR code needs ${missing.join(', ')}: install it (apt-get install bubblewrap util-linux), as the Docker image does`,
    );
  }
  return found as Tools;
}

/** The programs come from the system's directories only, never from a PATH a user could steer. */
async function which(name: string): Promise<string | undefined> {
  for (const dir of ['/usr/bin', '/bin', '/usr/sbin', '/sbin']) {
    const path = join(dir, name);
    if (
      await access(path, constants.X_OK).then(
        () => true,
        () => false,
      )
    )
      return path;
  }
  return undefined;
}

/** A uid of the range that belongs to an account would share its files and processes. */
async function assertNoAccountIn(uids: UidRange): Promise<void> {
  if (uids.first <= 0 || uids.last < uids.first) {
    throw new SandboxUnavailableError(
      `EVALBOT_SANDBOX_UIDS ${uids.first}-${uids.last} is not a range of non-root uids; use e.g. 50000-50999`,
    );
  }
  const passwd = await readFile('/etc/passwd', 'utf8').catch(() => '');
  const taken = passwd
    .split('\n')
    .map((line) => line.split(':'))
    .filter((f) => f.length > 3 && Number(f[2]) >= uids.first && Number(f[2]) <= uids.last)
    .map((f) => `${f[0]} (uid ${f[2]})`);
  if (taken.length > 0) {
    throw new SandboxUnavailableError(
      `the sandbox uids ${uids.first}-${uids.last} include accounts of this host: ${taken.join(', ')}; set EVALBOT_SANDBOX_UIDS to a range no account uses, so PR code never shares a uid with anyone`,
    );
  }
}

/**
 * Threads of this worker's own uid (not root: `RLIMIT_NPROC` counts every thread of the uid,
 * so the step's limit must come on top of what the user already runs).
 */
async function countOwnThreads(): Promise<number> {
  const uid = process.getuid?.();
  let count = 0;
  for (const pid of await readdir('/proc').catch(() => [] as string[])) {
    if (!/^\d+$/.test(pid)) continue;
    const status = await readFile(`/proc/${pid}/status`, 'utf8').catch(() => '');
    if (Number(/^Uid:\s+(\d+)/m.exec(status)?.[1]) !== uid) continue;
    count += Number(/^Threads:\s+(\d+)/m.exec(status)?.[1] ?? 1);
  }
  return count;
}
