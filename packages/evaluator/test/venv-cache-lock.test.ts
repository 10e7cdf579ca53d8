import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdir, readdir, readFile, stat, utimes, writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { waitFor } from '@evalbot/test-utils';
import { afterEach, describe, expect, it } from 'vitest';
import { currentProcessIdentity, processStartTime } from '../src/process-identity.ts';
import { breakLock, ensureCachedVenv } from '../src/venv-cache.ts';
import { removedAfterEach, tempDir } from './helpers.ts';

const remove = removedAfterEach();
const children: ReturnType<typeof spawn>[] = [];
afterEach(() => {
  for (const child of children.splice(0)) child.kill('SIGKILL');
});

const KEY = 'py3.11.0-0123456789abcdef';

/** A cache whose lock for KEY was left by `holder`; what happens to the next job wanting KEY. */
async function nextJobWith(holder: Record<string, unknown>, lastRenewed?: Date) {
  const venvsDir = await tempDir('venvs');
  remove(venvsDir);
  await mkdir(venvsDir, { recursive: true });
  const lockPath = join(venvsDir, `${KEY}.lock`);
  await writeFile(lockPath, JSON.stringify({ nonce: 'left', since: Date.now(), ...holder }));
  if (lastRenewed) await utimes(lockPath, lastRenewed, lastRenewed);
  const waitedFor: string[] = [];
  let built = 0;
  const result = await ensureCachedVenv({
    venvsDir,
    key: KEY,
    // Long enough for a takeover, short enough that a wrongly respected lock ends the test.
    deadline: Date.now() + 3_000,
    pollMs: 50,
    onWait: (who) => waitedFor.push(who),
    build: async (dir) => {
      built++;
      await mkdir(dir, { recursive: true });
      await writeFile(join(dir, 'pyvenv.cfg'), 'home = /usr/bin\n');
      return { ok: true };
    },
  });
  return { result, waitedFor, built, entries: await readdir(venvsDir) };
}

describe('the environment-cache lock', () => {
  const me = currentProcessIdentity();

  it('takes over at once a lock left by an earlier run with the same pid and hostname (a restarted container)', async () => {
    const earlierStart = String(Number(me.startTime) - 1);
    const next = await nextJobWith({ ...me, startTime: earlierStart });
    expect(next.waitedFor).toEqual([]);
    expect(next.result).toMatchObject({ status: 'ready', reused: false });
    expect(next.built).toBe(1);
    expect(next.entries).not.toContain(`${KEY}.lock`);
  });

  it('takes over at once a lock with the same pid, hostname and start time from an earlier boot', async () => {
    const next = await nextJobWith({ ...me, bootId: '00000000-0000-0000-0000-000000000000' });
    expect(next.waitedFor).toEqual([]);
    expect(next.result).toMatchObject({ status: 'ready', reused: false });
  });

  it('takes over a lock naming this pid without a start time (written before locks recorded one)', async () => {
    const next = await nextJobWith({ pid: process.pid, host: hostname() });
    expect(next.waitedFor).toEqual([]);
    expect(next.result).toMatchObject({ status: 'ready', reused: false });
  });

  it('takes over a lock whose pid now belongs to a process started later (pid reuse)', async () => {
    const child = spawn('sleep', ['30']);
    children.push(child);
    await once(child, 'spawn');
    const pid = child.pid ?? 0;
    const next = await nextJobWith({ ...me, pid, startTime: String(Number(processStartTime(pid)) - 100) });
    expect(next.waitedFor).toEqual([]);
    expect(next.result).toMatchObject({ status: 'ready', reused: false });
  });

  it('waits for a live builder: another running process, or another job of this process', async () => {
    const child = spawn('sleep', ['30']);
    children.push(child);
    await once(child, 'spawn');
    const pid = child.pid ?? 0;
    const other = await nextJobWith({ ...me, pid, startTime: processStartTime(pid) });
    expect(other.result).toEqual({ status: 'timed-out' });
    expect(other.built).toBe(0);
    expect(other.waitedFor).toEqual([`pid ${pid} on ${hostname()}`]);

    const sameProcess = await nextJobWith({ ...me });
    expect(sameProcess.result).toEqual({ status: 'timed-out' });
    expect(sameProcess.built).toBe(0);
    expect(sameProcess.entries).toContain(`${KEY}.lock`);
  });

  it('waits for a lock of another host while its holder renews it, and takes it over once it stops', async () => {
    // Another container on the shared cache volume, or one recreated under a new hostname.
    const elsewhere = { pid: 7, host: 'worker-on-another-host', since: Date.now() - 3600_000 };
    const renewed = await nextJobWith(elsewhere, new Date());
    expect(renewed.result).toEqual({ status: 'timed-out' });
    expect(renewed.waitedFor).toEqual(['pid 7 on worker-on-another-host']);

    const abandoned = await nextJobWith(elsewhere, new Date(Date.now() - 10 * 60_000));
    expect(abandoned.waitedFor).toEqual([]);
    expect(abandoned.result).toMatchObject({ status: 'ready', reused: false });
  });

  it.each([
    [2, 'waits for it'],
    [4, 'takes it over'],
  ])('a lock of another host last renewed %i minutes ago (abandoned after 3): %s', async (minutes) => {
    const elsewhere = { pid: 7, host: 'worker-on-another-host', since: Date.now() - 3600_000 };
    const next = await nextJobWith(elsewhere, new Date(Date.now() - minutes * 60_000));
    if (minutes < 3) {
      expect(next.result).toEqual({ status: 'timed-out' });
      expect(next.waitedFor).toEqual(['pid 7 on worker-on-another-host']);
    } else {
      expect(next.waitedFor).toEqual([]);
      expect(next.result).toMatchObject({ status: 'ready', reused: false });
    }
  });

  it('renews its own lock while it builds, so a long build is not taken for an abandoned one', async () => {
    const venvsDir = await tempDir('venvs');
    remove(venvsDir);
    const lockPath = join(venvsDir, `${KEY}.lock`);
    const result = await ensureCachedVenv({
      venvsDir,
      key: KEY,
      heartbeatMs: 50,
      build: async (dir) => {
        const first = (await stat(lockPath)).mtimeMs;
        await waitFor(async () => (await stat(lockPath)).mtimeMs > first, {
          what: 'the lock to be renewed',
          timeoutMs: 5_000,
        });
        await mkdir(dir, { recursive: true });
        await writeFile(join(dir, 'pyvenv.cfg'), 'home = /usr/bin\n');
        return { ok: true };
      },
    });
    expect(result).toMatchObject({ status: 'ready', reused: false });
  });

  it('breaks only the lock it judged abandoned, not one another waiter took meanwhile', async () => {
    const venvsDir = await tempDir('venvs');
    remove(venvsDir);
    await mkdir(venvsDir, { recursive: true });
    const lockPath = join(venvsDir, `${KEY}.lock`);
    const live = JSON.stringify({ ...me, nonce: 'taken-meanwhile', since: Date.now() });
    await writeFile(lockPath, live);
    await breakLock(lockPath, { pid: 7, host: 'gone-host', nonce: 'judged-dead', since: 0 });
    expect(await readFile(lockPath, 'utf8')).toBe(live);
    expect(await readdir(venvsDir)).toEqual([`${KEY}.lock`]);

    await breakLock(lockPath, { ...me, nonce: 'taken-meanwhile', since: 0 });
    expect(await readdir(venvsDir)).toEqual([]);
  });
});
