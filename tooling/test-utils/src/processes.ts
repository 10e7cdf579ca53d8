import { readdir, readFile, readlink } from 'node:fs/promises';

/** A live process as `/proc` shows it. */
export interface ProcessEntry {
  pid: number;
  ppid: number;
  /** Its arguments (`/proc/<pid>/cmdline` split on NUL). */
  args: string[];
  /** Its arguments joined by spaces, as `ps` prints them. */
  cmdline: string;
}

/** `/proc/<pid>/stat` after the command name: state, ppid, … (the name itself may hold spaces). */
async function statFields(pid: number | string): Promise<string[] | undefined> {
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8').catch(() => '');
  return stat === '' ? undefined : stat.slice(stat.lastIndexOf(')') + 2).split(' ');
}

/** True while `pid` runs (a zombie waiting for its parent to reap it does not). */
export async function isRunning(pid: number): Promise<boolean> {
  const fields = await statFields(pid);
  return fields !== undefined && fields[0] !== 'Z';
}

/**
 * Every live process but this test's own: zombies are left out (they are already dead, only
 * not yet reaped), and so is a process that ends while it is read.
 */
export async function liveProcesses(): Promise<ProcessEntry[]> {
  const found: ProcessEntry[] = [];
  for (const name of await readdir('/proc')) {
    if (!/^\d+$/.test(name) || Number(name) === process.pid) continue;
    const fields = await statFields(name);
    if (fields === undefined || fields[0] === 'Z') continue;
    const raw = await readFile(`/proc/${name}/cmdline`, 'utf8').catch(() => '');
    const args = raw.split('\0');
    if (args.at(-1) === '') args.pop();
    found.push({ pid: Number(name), ppid: Number(fields[1]), args, cmdline: args.join(' ') });
  }
  return found;
}

/**
 * Live processes with `marker` as one of their arguments. A test puts a unique marker on the
 * command line of what PR code starts, and finds it from the host: inside the sandbox PR code
 * sees nothing of the host to report its pid to.
 */
export async function processesWithArg(marker: string): Promise<number[]> {
  return (await liveProcesses()).filter((p) => p.args.includes(marker)).map((p) => p.pid);
}

/** Live processes whose command line (arguments joined by spaces) contains `needle`. */
export async function processesWithCmdline(needle: string): Promise<{ pid: number; cmdline: string }[]> {
  return (await liveProcesses())
    .filter((p) => p.cmdline.includes(needle))
    .map(({ pid, cmdline }) => ({ pid, cmdline }));
}

/** Live processes whose working directory is `root` or below it. */
export async function processesInside(
  root: string,
): Promise<{ pid: number; cwd: string; cmdline: string }[]> {
  const found: { pid: number; cwd: string; cmdline: string }[] = [];
  for (const { pid, cmdline } of await liveProcesses()) {
    const cwd = await readlink(`/proc/${pid}/cwd`).catch(() => '');
    if (cwd === root || cwd.startsWith(`${root}/`)) found.push({ pid, cwd, cmdline });
  }
  return found;
}

/** Live direct children of this process. */
export async function liveChildren(): Promise<number[]> {
  return (await liveProcesses()).filter((p) => p.ppid === process.pid).map((p) => p.pid);
}
