import { describe, expect, it } from 'vitest';
import { GpuDevices } from '../src/pools/gpu-devices.ts';

describe('GpuDevices', () => {
  it('gives each training a GPU no other running training has, and none when all are taken', () => {
    const gpus = new GpuDevices(['0', '1']);
    const first = gpus.lease();
    const second = gpus.lease();
    expect([first, second].sort()).toEqual(['0', '1']);
    expect(gpus.lease()).toBeUndefined();
    expect(gpus.free).toBe(0);
    gpus.release(first ?? '');
    expect(gpus.lease()).toBe(first);
  });

  it('has nothing to give on a worker without GPUs', () => {
    expect(new GpuDevices([]).lease()).toBeUndefined();
  });
});
