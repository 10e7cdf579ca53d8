import { lstat, readdir, readlink, stat } from 'node:fs/promises';
import { join } from 'node:path';

/**
 * How a system path appears inside the sandbox: bound read-only, a symlink as on the host, or
 * a device node passed through (GPUs).
 */
export type SystemEntry =
  | { path: string; symlink: string }
  | { path: string; bind: true }
  | { path: string; device: true };

/** The system directories PR code sees (read-only): programs and libraries. Nothing else of the host. */
const SYSTEM_PATHS = ['/usr', '/bin', '/sbin', '/lib', '/lib32', '/lib64', '/libx32'];

/**
 * What of `/etc` programs need to run: the loader's cache, users and groups, time zone, TLS
 * roots, Debian's alternatives and Python's own files. Not the rest, where an operator may keep
 * credentials (`pip.conf` with an index token, `.netrc`-like files, service configuration).
 */
const ETC_ENTRIES = [
  'alternatives',
  'ca-certificates',
  'debian_version',
  'fonts',
  'gai.conf',
  'group',
  'host.conf',
  'hosts',
  'ld.so.cache',
  'ld.so.conf',
  'ld.so.conf.d',
  'locale.alias',
  'localtime',
  'magic',
  'matplotlibrc',
  'mime.types',
  'nsswitch.conf',
  'os-release',
  'passwd',
  'protocols',
  'services',
  'ssl',
  'timezone',
];

/** Read once per worker: Debian's merged `/usr` makes `/bin` a symlink, older systems a directory. */
export async function readSystemLayout(): Promise<SystemEntry[]> {
  const entries: SystemEntry[] = [];
  for (const path of SYSTEM_PATHS) {
    const stats = await lstat(path).catch(() => undefined);
    if (!stats) continue;
    if (stats.isSymbolicLink()) entries.push({ path, symlink: await readlink(path) });
    else if (stats.isDirectory()) entries.push({ path, bind: true });
  }
  const python = (await readdir('/etc').catch(() => [] as string[])).filter((n) =>
    /^python3(\.\d+)?$/.test(n),
  );
  for (const name of [...ETC_ENTRIES, ...python]) {
    const path = join('/etc', name);
    // Bound by content (a symlink such as /etc/localtime is followed): its target may be elsewhere.
    if (await stat(path).catch(() => undefined)) entries.push({ path, bind: true });
  }
  // NVIDIA's device nodes, where the host (or the Container Toolkit) has them: a GPU worker's
  // trainings need them, and nothing else of the host's /dev.
  for (const name of await readdir('/dev').catch(() => [] as string[])) {
    if (/^nvidia(\d+|ctl|-uvm|-uvm-tools|-modeset)$/.test(name))
      entries.push({ path: join('/dev', name), device: true });
  }
  return entries;
}

/** True when the host has NVIDIA GPUs the sandbox passes through. */
export function hasGpuDevices(system: SystemEntry[]): boolean {
  return system.some((entry) => 'device' in entry);
}
