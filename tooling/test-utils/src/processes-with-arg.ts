import { readdir, readFile } from 'node:fs/promises';

/**
 * Live (not zombie) processes with `marker` as one of their arguments. A test puts a unique
 * marker on the command line of what PR code starts, and finds it from the host: inside the
 * sandbox PR code sees nothing of the host to report its pid to.
 */
export async function processesWithArg(marker: string): Promise<number[]> {
  const pids: number[] = [];
  for (const name of await readdir('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    const cmdline = await readFile(`/proc/${name}/cmdline`, 'utf8').catch(() => '');
    if (!cmdline.split('\0').includes(marker)) continue;
    const stat = await readFile(`/proc/${name}/stat`, 'utf8').catch(() => '');
    if (stat !== '' && stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z') pids.push(Number(name));
  }
  return pids;
}
