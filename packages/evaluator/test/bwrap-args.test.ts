import { describe, expect, it } from 'vitest';
import { bwrapArgs } from '../src/sandbox/bwrap-args.ts';

describe("bubblewrap's arguments", () => {
  const args = bwrapArgs({
    system: [
      { path: '/usr', bind: true },
      { path: '/bin', symlink: 'usr/bin' },
      { path: '/dev/nvidia0', device: true },
    ],
    view: { readOnly: ['/cache/venvs/py-abc'], writable: ['/work/job/checkout'], cwd: '/work/job/checkout' },
    identity: { uid: 50001, gid: 50001 },
    limits: { tmpBytes: 1024 },
  });
  const line = args.join(' ');

  it('passes a GPU through after the minimal /dev, and no other device', () => {
    expect(line).toContain('--dev /dev --dev-bind /dev/nvidia0 /dev/nvidia0');
    expect(args.filter((a) => a === '--dev-bind')).toHaveLength(1);
  });

  it('binds the job read-write and the environment read-only, at their own paths, then seals the root', () => {
    expect(line).toContain('--ro-bind /cache/venvs/py-abc /cache/venvs/py-abc');
    expect(line).toContain('--bind /work/job/checkout /work/job/checkout');
    expect(line.indexOf('--remount-ro /')).toBeGreaterThan(line.indexOf('--bind /work/job/checkout'));
  });

  it('maps the job uid to itself, with no network, pid or user namespace to share', () => {
    for (const flag of [
      '--unshare-net',
      '--unshare-pid',
      '--unshare-user',
      '--disable-userns',
      '--new-session',
    ]) {
      expect(args).toContain(flag);
    }
    expect(line).toContain('--uid 50001 --gid 50001');
  });
});
