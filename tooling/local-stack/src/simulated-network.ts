import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { promisify } from 'node:util';

const run = promisify(execFile);

/**
 * `argv` run in network namespace `netns`: `nsenter --net`, which execs (the pid is the
 * command's) and, unlike `ip netns exec`, keeps this machine's `/sys` (its cgroups, which the
 * sandbox of PR code uses).
 */
export function inNetns(netns: string, argv: string[]): string[] {
  return ['nsenter', `--net=/run/netns/${netns}`, ...argv];
}

/** One simulated machine: a network namespace with one interface on the network's bridge. */
export interface SimulatedHost {
  name: string;
  /** The `ip netns` name; run a process on this host with {@link inNetns}. */
  netns: string;
  /** Its address on the bridge. */
  address: string;
  /** Pull its cable: its link to the bridge goes down; its processes keep running, unreachable. */
  cutOff(): Promise<void>;
  /** SIGKILL every process in its namespace. */
  killAll(): Promise<void>;
}

/** A bridge in this machine's network namespace, with hosts on it; the bridge end has {@link SimulatedNetwork.gatewayAddress}. */
export interface SimulatedNetwork {
  /** The first three octets of its /24, e.g. `10.213.42`. */
  subnet: string;
  /** The address of this (the test's) namespace on the bridge: a server bound to it is reachable from every host. */
  gatewayAddress: string;
  addHost(name: string): Promise<SimulatedHost>;
  /** Kill every host's processes and remove the namespaces, links and bridge (safe to call twice). */
  close(): Promise<void>;
}

async function ip(...args: string[]): Promise<void> {
  try {
    await run('ip', args);
  } catch (error) {
    const stderr = (error as { stderr?: string }).stderr?.trim();
    throw new Error(`ip ${args.join(' ')} failed: ${stderr || (error as Error).message}`);
  }
}

/** /24s of 10.213.0.0/16 already routed here (another run's network): the new one avoids them. */
async function usedSubnets(): Promise<Set<string>> {
  const { stdout } = await run('ip', ['-4', 'route', 'show']);
  return new Set([...stdout.matchAll(/^10\.213\.(\d+)\.0\/24/gm)].map((m) => `10.213.${m[1]}`));
}

/**
 * Several machines on one: a Linux bridge and, per host, a network namespace joined to it by a
 * veth pair — what the many-hosts tests and the scale benchmark run evalbot across. Needs root
 * (CAP_NET_ADMIN). Names are unique per network, so runs side by side never meet; traffic
 * stays on the bridge (no route out of a namespace).
 */
export async function createSimulatedNetwork(): Promise<SimulatedNetwork> {
  if (process.getuid?.() !== 0) {
    throw new Error(
      'a simulated network needs root (CAP_NET_ADMIN) to create network namespaces and links; run the tests as root, as CI does',
    );
  }
  const id = randomBytes(3).toString('hex');
  const used = await usedSubnets();
  const free = Array.from({ length: 254 }, (_, i) => `10.213.${i + 1}`).filter((s) => !used.has(s));
  const subnet = free[(randomBytes(1)[0] ?? 0) % Math.max(1, free.length)];
  if (!subnet) throw new Error('no free /24 left in 10.213.0.0/16 for a simulated network');
  // Interface names have at most 15 characters.
  const bridge = `ebr${id}`;
  const hosts: SimulatedHost[] = [];
  const links: string[] = [];
  const made: (() => Promise<void>)[] = [];
  let closed = false;

  const close = async () => {
    if (closed) return;
    closed = true;
    for (const host of hosts) await host.killAll().catch(() => {});
    for (const undo of made.reverse()) await undo().catch(() => {});
  };

  try {
    await ip('link', 'add', bridge, 'type', 'bridge');
    made.push(() => ip('link', 'del', bridge));
    await ip('addr', 'add', `${subnet}.1/24`, 'dev', bridge);
    await ip('link', 'set', bridge, 'up');
  } catch (error) {
    await close();
    throw error;
  }

  const addHost = async (name: string): Promise<SimulatedHost> => {
    if (closed) throw new Error('the simulated network is closed');
    const index = hosts.length + 1;
    const netns = `evalbot-${id}-${name}`;
    const outer = `ev${id}o${index}`;
    const inner = `ev${id}i${index}`;
    const address = `${subnet}.${index + 1}`;
    await ip('netns', 'add', netns);
    made.push(() => ip('netns', 'del', netns));
    await ip('link', 'add', outer, 'type', 'veth', 'peer', 'name', inner);
    // Deleting one end deletes both; gone already once the namespace is deleted.
    made.push(() => ip('link', 'del', outer).catch(() => {}));
    links.push(outer);
    await ip('link', 'set', outer, 'master', bridge);
    await ip('link', 'set', outer, 'up');
    await ip('link', 'set', inner, 'netns', netns);
    await ip('-n', netns, 'link', 'set', inner, 'name', 'eth0');
    await ip('-n', netns, 'addr', 'add', `${address}/24`, 'dev', 'eth0');
    await ip('-n', netns, 'link', 'set', 'eth0', 'up');
    await ip('-n', netns, 'link', 'set', 'lo', 'up');
    const host: SimulatedHost = {
      name,
      netns,
      address,
      cutOff: () => ip('link', 'set', outer, 'down'),
      killAll: async () => {
        const { stdout } = await run('ip', ['netns', 'pids', netns]).catch(() => ({ stdout: '' }));
        for (const pid of stdout.split(/\s+/).filter(Boolean).map(Number)) {
          try {
            process.kill(pid, 'SIGKILL');
          } catch {
            // Already gone.
          }
        }
      },
    };
    hosts.push(host);
    return host;
  };

  return { subnet, gatewayAddress: `${subnet}.1`, addHost, close };
}
