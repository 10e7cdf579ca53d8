import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type SecuredRedis, startSecuredRedis } from '@evalbot/test-utils';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../src/program.ts';
import { captureCli } from './capture-cli.ts';
import { demoArgs, fakeModelSource } from './fake-model.ts';

// `evalbot demo --redis-url` against a Redis locked down as docker-compose.yml runs it: TLS with
// a private CA, the default user off, an ACL user confined to the key prefix.
describe('evalbot demo with a Redis that asks for a password over TLS', () => {
  let dir: string;
  let cacheDir: string;
  let redis: SecuredRedis;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'evalbot-demo-redis-'));
    cacheDir = process.env.EVALBOT_CACHE_DIR ?? join(dir, 'cache');
    redis = await startSecuredRedis({
      tls: true,
      // The stack's fresh key prefix is evalbot-<hex>.
      users: [
        ['default', 'off'],
        ['evalbot', 'on', '>demo-pw-1234', '~evalbot-*', '&evalbot-*', '+@all', '-@dangerous', '+info'],
      ],
    });
  });
  afterAll(async () => {
    await redis?.close();
    await rm(dir, { recursive: true, force: true });
  });

  async function redisDemoArgs(name: string, url: string) {
    return demoArgs(await fakeModelSource(dir, name), cacheDir, [
      '--workers',
      '1',
      '--redis-url',
      url,
      '--redis-ca-file',
      redis.caFile ?? '',
    ]);
  }

  it('runs the evaluation with the password in --redis-url and the CA in --redis-ca-file', async () => {
    const cli = captureCli({ cwd: dir });
    const code = await runCli(
      await redisDemoArgs('model', redis.url({ user: 'evalbot', password: 'demo-pw-1234' })),
      cli.ctx,
    );
    expect(cli.stderr()).not.toMatch(/^evalbot: /m);
    expect(code).toBe(0);
    expect(cli.stdout()).toMatch(/\| accuracy ↑ \| 90\.30% \| 90\.50% \| \+0\.20 pts \|/);
    // The job progress the CLI reads from Redis itself came through too.
    expect(cli.stderr()).toMatch(/^head [0-9a-f]{7}: done: accuracy 0\.905/m);
  }, 120_000);

  it('stops before starting anything, exit 78, when Redis refuses the password', async () => {
    const cli = captureCli({ cwd: dir });
    const code = await runCli(
      await redisDemoArgs('refused', redis.url({ user: 'evalbot', password: 'wrong' })),
      cli.ctx,
    );
    expect(code).toBe(78);
    expect(cli.stderr()).toMatch(
      /^evalbot: --redis-url: Redis at rediss:\/\/evalbot:\*\*\*@127\.0\.0\.1:\d+ refused the credentials in --redis-url \(WRONGPASS/m,
    );
    expect(cli.stderr()).not.toContain('Starting evalbot');
  });
});
