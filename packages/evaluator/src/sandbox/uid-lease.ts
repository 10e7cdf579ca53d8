import { randomBytes } from 'node:crypto';
import { mkdir, readFile, stat, unlink, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { currentProcessIdentity, holderState, type ProcessIdentity } from '../process-identity.ts';

/** A range of uids that belong to no account, one per concurrently running job. */
export interface UidRange {
  first: number;
  last: number;
}

export interface UidLease {
  uid: number;
  release(): Promise<void>;
}

/** The holder by pid, hostname, boot id and start time, as the environment-cache lock names it. */
interface LeaseInfo extends ProcessIdentity {
  since: number;
  /** Tells this lease from any other, even of the same process in the same millisecond. */
  nonce?: string;
}

/**
 * Lease a uid of `range` for one job: a file `<dir>/<uid>` created with `O_EXCL`, naming this
 * process. Every worker of a host leases from the same directory, so no two running jobs share
 * a uid (and so a process count, a signal target or a file owner). A lease of a dead process
 * on this host is taken over; one of another host (a shared cache volume) after `foreignStaleMs`.
 */
export async function leaseUid(
  dir: string,
  range: UidRange,
  opts: { foreignStaleMs: number },
): Promise<UidLease> {
  // Only the lease directory itself is private: a parent created here (the cache directory)
  // must stay reachable by the sandbox's uids.
  await mkdir(dirname(dir), { recursive: true });
  await mkdir(dir, { mode: 0o700 }).catch((error: NodeJS.ErrnoException) => {
    if (error.code !== 'EEXIST') throw error;
  });
  const size = range.last - range.first + 1;
  // Start at a random place so that workers starting together do not contend for one file.
  const offset = Math.floor(Math.random() * size);
  for (let i = 0; i < size; i++) {
    const uid = range.first + ((offset + i) % size);
    const path = join(dir, String(uid));
    const mine: LeaseInfo = {
      ...currentProcessIdentity(),
      since: Date.now(),
      nonce: randomBytes(8).toString('hex'),
    };
    if (await tryCreate(path, mine)) return leaseOf(uid, path, mine);
    const holder = await readLease(path);
    if (holder && !isAbandoned(holder, opts.foreignStaleMs)) continue;
    // Take an abandoned lease over under a lock of its own, so that two takers cannot both
    // remove it (one of them the other's fresh lease) and run two jobs as one uid.
    const takeover = `${path}.takeover`;
    if (!(await tryCreate(takeover, mine))) {
      await removeIfOlder(takeover, 60_000);
      continue;
    }
    try {
      const again = await readLease(path);
      if (again && !isAbandoned(again, opts.foreignStaleMs)) continue;
      await unlink(path).catch(() => {});
      if (await tryCreate(path, mine)) return leaseOf(uid, path, mine);
    } finally {
      await unlink(takeover).catch(() => {});
    }
  }
  throw new Error(
    `all ${size} sandbox uids (${range.first}-${range.last}) are in use by running jobs; widen EVALBOT_SANDBOX_UIDS or lower WORKER_CONCURRENCY`,
  );
}

function leaseOf(uid: number, path: string, mine: LeaseInfo): UidLease {
  return {
    uid,
    // Only our own lease: one taken over meanwhile (ours judged abandoned) belongs to another job.
    release: async () => {
      const current = await readLease(path);
      if (current?.nonce === mine.nonce) {
        await unlink(path).catch(() => {});
      }
    },
  };
}

/** A takeover lock left by a process that died while holding it. */
async function removeIfOlder(path: string, ms: number): Promise<void> {
  const stats = await stat(path).catch(() => undefined);
  if (stats && Date.now() - stats.mtimeMs > ms) await unlink(path).catch(() => {});
}

async function tryCreate(path: string, info: LeaseInfo): Promise<boolean> {
  try {
    await writeFile(path, JSON.stringify(info), { flag: 'wx', mode: 0o600 });
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw error;
  }
}

async function readLease(path: string): Promise<LeaseInfo | undefined> {
  try {
    const info = JSON.parse(await readFile(path, 'utf8')) as LeaseInfo;
    return Number.isInteger(info.pid) && typeof info.host === 'string' ? info : undefined;
  } catch {
    // Unreadable or half-written: treated as held (a writer finishes within microseconds).
    return { ...currentProcessIdentity(), since: Date.now() };
  }
}

/**
 * A lease of a dead process on this host — including one left by an earlier run of a container
 * restarted under the same pid (its start time differs), whose leases would otherwise look held
 * for ever and drain the range — or of another host after `foreignStaleMs`.
 */
function isAbandoned(holder: LeaseInfo, foreignStaleMs: number): boolean {
  const state = holderState(holder);
  if (state === 'elsewhere') return Date.now() - holder.since > foreignStaleMs;
  return state === 'dead';
}
