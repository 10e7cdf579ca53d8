import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type SentinelGroup, startSentinelGroup } from '@evalbot/test-utils';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../src/program.ts';
import { captureCli } from './capture-cli.ts';
import { demoArgs, fakeModelSource } from './fake-model.ts';

// `evalbot demo --redis-sentinels`: the gateway, the workers and the CLI's own progress reader
// all find the master by asking a real Sentinel group.
describe('evalbot demo through Redis Sentinel', () => {
  let dir: string;
  let cacheDir: string;
  let group: SentinelGroup;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'evalbot-demo-sentinel-'));
    cacheDir = process.env.EVALBOT_CACHE_DIR ?? join(dir, 'cache');
    group = await startSentinelGroup();
  }, 60_000);
  afterAll(async () => {
    await group?.close();
    await rm(dir, { recursive: true, force: true });
  });

  async function sentinelDemoArgs(name: string, redisArgs: string[]) {
    return demoArgs(await fakeModelSource(dir, name), cacheDir, ['--workers', '1', ...redisArgs]);
  }

  it('runs the evaluation with --redis-sentinels and --redis-sentinel-master', async () => {
    const cli = captureCli({ cwd: dir });
    const code = await runCli(
      await sentinelDemoArgs('model', [
        '--redis-sentinels',
        group.sentinels,
        '--redis-sentinel-master',
        group.master,
      ]),
      cli.ctx,
    );
    expect(cli.stderr()).not.toMatch(/^evalbot: /m);
    expect(code).toBe(0);
    expect(cli.stderr()).toContain('Starting evalbot: Redis through --redis-sentinels');
    expect(cli.stdout()).toMatch(/\| accuracy ↑ \| 90\.30% \| 90\.50% \| \+0\.20 pts \|/);
    expect(cli.stderr()).toMatch(/^head [0-9a-f]{7}: done: accuracy 0\.905/m);
  }, 120_000);

  it('stops before starting anything, exit 64 or 78, naming the flag that is wrong', async () => {
    const noMaster = captureCli({ cwd: dir });
    expect(
      await runCli(await sentinelDemoArgs('no-master', ['--redis-sentinels', group.sentinels]), noMaster.ctx),
    ).toBe(64);
    expect(noMaster.stderr()).toContain(
      'evalbot: --redis-sentinel-master: is required with --redis-sentinels; set it to the master group name',
    );
    const badList = captureCli({ cwd: dir });
    expect(
      await runCli(
        await sentinelDemoArgs('bad-list', [
          '--redis-sentinels',
          'sentinel-1',
          '--redis-sentinel-master',
          group.master,
        ]),
        badList.ctx,
      ),
    ).toBe(64);
    expect(badList.stderr()).toContain('--redis-sentinels: "sentinel-1" is not HOST:PORT');
    // A master name the Sentinels do not monitor is caught before anything starts, too.
    const unknown = captureCli({ cwd: dir });
    expect(
      await runCli(
        await sentinelDemoArgs('unknown-master', [
          '--redis-sentinels',
          group.sentinels,
          '--redis-sentinel-master',
          'nope',
        ]),
        unknown.ctx,
      ),
    ).toBe(78);
    expect(unknown.stderr()).toMatch(
      /^evalbot: --redis-sentinels: No Sentinel of 127\.0\.0\.1:\d+,.* monitors a master named "nope" .* Set --redis-sentinel-master to the name/m,
    );
    for (const cli of [noMaster, badList, unknown]) expect(cli.stderr()).not.toContain('Starting evalbot');
  });
});
