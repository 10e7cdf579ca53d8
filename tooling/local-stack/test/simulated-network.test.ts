import { execFile } from 'node:child_process';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { createSimulatedNetwork, inNetns, type SimulatedNetwork } from '../src/index.ts';

const run = promisify(execFile);
const networks: SimulatedNetwork[] = [];

afterAll(async () => {
  for (const network of networks) await network.close();
});

/** `curl` from inside `netns`: the HTTP status, or the failure. */
async function curlFrom(netns: string, url: string): Promise<string> {
  const [file = '', ...args] = inNetns(netns, [
    'curl',
    '-s',
    '-o',
    '/dev/null',
    '-w',
    '%{http_code}',
    '-m',
    '2',
    url,
  ]);
  return run(file, args).then(
    (r) => r.stdout,
    () => 'unreachable',
  );
}

async function names(): Promise<string> {
  const [netns, links] = await Promise.all([run('ip', ['netns', 'list']), run('ip', ['-o', 'link', 'show'])]);
  return `${netns.stdout}\n${links.stdout}`;
}

describe('a simulated network', () => {
  it('reaches the bridge from each host until the host is cut off, and leaves nothing behind', async () => {
    const network = await createSimulatedNetwork();
    networks.push(network);
    const server = createServer((_, res) => res.end('ok'));
    await new Promise<void>((resolve) => server.listen(0, network.gatewayAddress, resolve));
    const url = `http://${network.gatewayAddress}:${(server.address() as AddressInfo).port}/`;
    try {
      const a = await network.addHost('a');
      const b = await network.addHost('b');
      expect(a.address).not.toBe(b.address);
      expect(await curlFrom(a.netns, url)).toBe('200');
      expect(await curlFrom(b.netns, url)).toBe('200');

      await a.cutOff();
      expect(await curlFrom(a.netns, url)).toBe('unreachable');
      expect(await curlFrom(b.netns, url)).toBe('200');

      const before = await names();
      expect(before).toContain(a.netns);
      await network.close();
      const after = await names();
      expect(after).not.toContain(a.netns);
      expect(after).not.toContain(b.netns);
      expect(after).not.toContain(`ebr${a.netns.split('-')[1]}`);
    } finally {
      server.close();
    }
  });
});
