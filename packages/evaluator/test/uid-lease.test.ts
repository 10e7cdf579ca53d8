import { readFile, writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { describe, expect, it } from 'vitest';
import { currentProcessIdentity } from '../src/process-identity.ts';
import { leaseUid } from '../src/sandbox/uid-lease.ts';
import { removedAfterEach, tempDir } from './helpers.ts';

const remove = removedAfterEach();
const opts = { foreignStaleMs: 3600_000 };

async function leaseDir() {
  const dir = await tempDir('leases');
  remove(dir);
  return join(dir, 'uids');
}

describe('uid leases', () => {
  it('never gives two running jobs one uid, and says when the range is used up', async () => {
    const dir = await leaseDir();
    const range = { first: 50100, last: 50103 };
    const leases = await Promise.all(Array.from({ length: 4 }, () => leaseUid(dir, range, opts)));
    expect(new Set(leases.map((l) => l.uid)).size).toBe(4);
    await expect(leaseUid(dir, range, opts)).rejects.toThrow(/all 4 sandbox uids \(50100-50103\) are in use/);
    await leases[0]?.release();
    expect((await leaseUid(dir, range, opts)).uid).toBe(leases[0]?.uid);
  });

  it("takes over the lease of a process that died, and a release never removes another job's lease", async () => {
    const dir = await leaseDir();
    const range = { first: 50200, last: 50200 };
    const dead = execa('sleep', ['60']);
    const deadPid = dead.pid ?? 0;
    dead.kill('SIGKILL');
    await dead.catch(() => {});
    const stale = await leaseUid(dir, range, opts);
    // Pretend its holder died: the file now names a dead process of this host.
    await writeFile(join(dir, '50200'), JSON.stringify({ pid: deadPid, host: hostname(), since: 1 }));
    const fresh = await leaseUid(dir, range, opts);
    expect(fresh.uid).toBe(50200);
    await stale.release();
    expect(JSON.parse(await readFile(join(dir, '50200'), 'utf8'))).toMatchObject({ pid: process.pid });
    await expect(leaseUid(dir, range, opts)).rejects.toThrow(/in use/);
  });

  it('takes over a lease left by an earlier run of a restarted container with the same pid, and keeps its own', async () => {
    const dir = await leaseDir();
    const range = { first: 50300, last: 50300 };
    const me = currentProcessIdentity();
    const earlierRun = { ...me, startTime: String(Number(me.startTime) - 1), since: 1, nonce: 'earlier-run' };
    const held = await leaseUid(dir, range, opts);
    // The same pid and hostname, another start time: a worker restarted under tini.
    await writeFile(join(dir, '50300'), JSON.stringify(earlierRun));
    const next = await leaseUid(dir, range, opts);
    expect(next.uid).toBe(50300);
    // Its own live lease, by contrast, is held: the range is used up.
    await expect(leaseUid(dir, range, opts)).rejects.toThrow(/in use/);
    await held.release();
    await next.release();
  });
});
