import { describe, expect, it } from 'vitest';
import { bwrapArgs } from '../src/sandbox/bwrap-args.ts';

describe("bubblewrap's arguments", () => {
  const system = [
    { path: '/usr', bind: true as const },
    { path: '/bin', symlink: 'usr/bin' },
    { path: '/dev/nvidia0', device: true as const },
    { path: '/dev/nvidia1', device: true as const },
    { path: '/dev/nvidiactl', device: true as const },
    { path: '/dev/nvidia-uvm', device: true as const },
  ];
  const view = {
    readOnly: ['/cache/venvs/py-abc'],
    writable: ['/work/job/checkout'],
    cwd: '/work/job/checkout',
  };
  const argsFor = (gpus?: string[]) =>
    bwrapArgs({
      system,
      view: { ...view, ...(gpus ? { gpus } : {}) },
      identity: { uid: 50001, gid: 50001 },
      limits: { tmpBytes: 1024 },
    });
  const args = argsFor(['1']);
  const line = args.join(' ');
  const bound = (a: string[]) => a.flatMap((arg, i) => (arg === '--dev-bind' ? [a[i + 1]] : []));

  it("passes the step's own GPU and NVIDIA's control nodes through after the minimal /dev, and no other device", () => {
    expect(line).toContain('--dev /dev --dev-bind /dev/nvidia1 /dev/nvidia1');
    expect(bound(args)).toEqual(['/dev/nvidia1', '/dev/nvidiactl', '/dev/nvidia-uvm']);
  });

  it('binds no GPU for a step given none, so unsetting CUDA_VISIBLE_DEVICES reaches nothing', () => {
    expect(bound(argsFor())).toEqual([]);
    expect(bound(argsFor([]))).toEqual([]);
  });

  it('binds every GPU node for a GPU named by UUID, which the nodes cannot tell apart', () => {
    expect(bound(argsFor(['GPU-8f1c…']))).toEqual([
      '/dev/nvidia0',
      '/dev/nvidia1',
      '/dev/nvidiactl',
      '/dev/nvidia-uvm',
    ]);
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
