import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import {
  isRunning,
  liveChildren,
  processesInside,
  processesWithArg,
  processesWithCmdline,
  waitFor,
} from '../src/index.ts';

const started: ChildProcess[] = [];
const dirs: string[] = [];
afterEach(async () => {
  for (const child of started.splice(0)) {
    // The whole group: a shell's children too.
    if (child.exitCode === null && child.signalCode === null) {
      process.kill(-(child.pid as number), 'SIGKILL');
      await once(child, 'exit');
    }
  }
  for (const dir of dirs.splice(0)) await rm(dir, { recursive: true, force: true });
});

/** `command args` in a directory and process group of its own; resolves once it has printed its first line. */
async function start(
  command: string,
  args: string[],
): Promise<{ child: ChildProcess; dir: string; firstLine: string }> {
  const dir = await mkdtemp(join(tmpdir(), 'evalbot-test-utils-'));
  dirs.push(dir);
  const child = spawn(command, args, { cwd: dir, detached: true, stdio: ['ignore', 'pipe', 'inherit'] });
  started.push(child);
  const [chunk] = (await once(child.stdout as NodeJS.ReadableStream, 'data')) as [Buffer];
  return { child, dir, firstLine: chunk.toString().split('\n')[0] ?? '' };
}

describe('the /proc scans', () => {
  it('find a live process by argument, command line, working directory and parent', async () => {
    const marker = `evalbot-scan-${process.pid}-${Date.now()}`;
    // One process, no children (a shell's fork carries its command line until it execs).
    const script = 'console.log("up"); setTimeout(() => {}, 30_000)';
    const { child, dir } = await start(process.execPath, ['-e', script, marker]);
    const pid = child.pid as number;
    const cmdline = `${process.execPath} -e ${script} ${marker}`;

    expect(await processesWithArg(marker)).toEqual([pid]);
    // A part of an argument is not an argument; the command line is searched by its text.
    expect(await processesWithArg(marker.slice(1))).toEqual([]);
    expect(await processesWithCmdline(`30_000) ${marker}`)).toEqual([{ pid, cmdline }]);
    expect(await processesInside(dir)).toEqual([{ pid, cwd: dir, cmdline }]);
    expect(await liveChildren()).toContain(pid);
    expect(await isRunning(pid)).toBe(true);

    process.kill(-pid, 'SIGKILL');
    await once(child, 'exit');
    expect(await isRunning(pid)).toBe(false);
    expect(await processesWithArg(marker)).toEqual([]);
    expect(await liveChildren()).not.toContain(pid);
    expect(await processesInside(dir)).toEqual([]);
  });

  it('count a zombie (ended, not yet reaped) as not running', async () => {
    // Python forks a child that exits at once, and never waits for it: a zombie until Python ends.
    const script =
      'import os, time\npid = os.fork()\nif pid == 0: os._exit(0)\nprint(pid, flush=True)\ntime.sleep(30)';
    const { child, firstLine } = await start('python3', ['-c', script]);
    const zombie = Number(firstLine);
    await waitFor(async () => (await readFile(`/proc/${zombie}/stat`, 'utf8')).includes(') Z '), {
      what: `process ${zombie} to become a zombie`,
    });

    expect(await isRunning(zombie)).toBe(false);
    expect(await isRunning(child.pid as number)).toBe(true);
  });
});
