import type { Resources } from '@evalbot/repo-config';
import { describe, expect, it } from 'vitest';
import { BaseResourcesMemo } from '../src/pools/read-base-resources.ts';

const GPU: Resources = { gpu: 1 };
const CPU: Resources = { gpu: 0 };

describe('the base resources memo', () => {
  it('reads a base commit once for every side and PR that routes by it, also when asked at once', async () => {
    const memo = new BaseResourcesMemo();
    let reads = 0;
    const load = async () => {
      reads++;
      return GPU;
    };
    const [a, b] = await Promise.all([
      memo.read('1/octo/model@abc', load),
      memo.read('1/octo/model@abc', load),
    ]);
    expect(await memo.read('1/octo/model@abc', load)).toEqual(GPU);
    expect([a, b]).toEqual([GPU, GPU]);
    expect(reads).toBe(1);
    // Another commit (or another repository) is its own read.
    expect(await memo.read('1/octo/model@def', async () => CPU)).toEqual(CPU);
  });

  it('keeps no failed read: the next job asks GitHub again', async () => {
    const memo = new BaseResourcesMemo();
    await expect(
      memo.read('1/octo/model@abc', async () => {
        throw Object.assign(new Error('Service Unavailable'), { status: 503 });
      }),
    ).rejects.toThrow('Service Unavailable');
    expect(await memo.read('1/octo/model@abc', async () => GPU)).toEqual(GPU);
  });

  it('holds at most its limit of commits, dropping the oldest', async () => {
    const memo = new BaseResourcesMemo(2);
    for (const sha of ['a', 'b', 'c']) await memo.read(sha, async () => CPU);
    let reads = 0;
    const load = async () => {
      reads++;
      return GPU;
    };
    expect(await memo.read('c', load)).toEqual(CPU);
    expect(reads).toBe(0);
    expect(await memo.read('a', load)).toEqual(GPU);
    expect(reads).toBe(1);
  });
});
