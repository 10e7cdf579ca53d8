import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildApp, loadConfig } from '@evalbot/gateway';
import { buildDelivery } from '@evalbot/github-sim';
import { createRedisConnection, DELIVERY_QUEUE, QUEUE_NAMES, waitForRedisReady } from '@evalbot/jobs';
import { createLogger } from '@evalbot/logger';
import { freePort, sharedRedis, testPrefix } from '@evalbot/test-utils';
import { Queue } from 'bullmq';
import type { FastifyInstance } from 'fastify';
import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../src/program.ts';
import { signWebhookBody } from '../src/replay/send-delivery.ts';
import { captureCli } from './capture-cli.ts';

const SECRET = 'replay-test-secret';

describe('evalbot replay', () => {
  let redis: { url: string; close: () => Promise<void> };
  let connection: Redis;
  let gateway: FastifyInstance;
  let url: string;
  let dir: string;
  const prefix = testPrefix();

  beforeAll(async () => {
    redis = await sharedRedis();
    connection = createRedisConnection({ url: redis.url }, { role: 'worker' });
    await waitForRedisReady(connection);
    const config = loadConfig({ REDIS_URL: redis.url, WEBHOOK_SECRET: SECRET, BULLMQ_PREFIX: prefix });
    gateway = await buildApp({
      config,
      logger: createLogger({ service: 'evalbot-gateway', level: 'silent' }),
    });
    url = `${await gateway.listen({ host: '127.0.0.1', port: 0 })}${config.webhookPath}`;
    dir = await mkdtemp(join(tmpdir(), 'evalbot-replay-'));
  });

  afterAll(async () => {
    await gateway?.close();
    for (const name of QUEUE_NAMES) {
      const queue = new Queue(name, { connection, prefix });
      await queue.obliterate({ force: true });
      await queue.close();
    }
    await connection?.quit();
    await redis?.close();
    await rm(dir, { recursive: true, force: true });
  });

  async function payloadFile(name: string, body: string) {
    const path = join(dir, name);
    await writeFile(path, body);
    return path;
  }

  const labeled = () =>
    buildDelivery({
      event: 'pull_request',
      action: 'labeled',
      label: 'evaluate',
      pullRequest: { number: 5, headSha: 'a'.repeat(40), baseSha: 'b'.repeat(40) },
    });

  it('delivers a signed pull_request delivery that the gateway records', async () => {
    await payloadFile('labeled.json', labeled().body);
    const cli = captureCli({ cwd: dir });
    const code = await runCli(
      [
        'replay',
        'labeled.json',
        '--event',
        'pull_request',
        '--url',
        url,
        '--secret',
        SECRET,
        '--delivery-id',
        'replay-1',
      ],
      cli.ctx,
    );
    expect(cli.stderr()).toBe('');
    expect(code).toBe(0);
    expect(cli.stdout()).toContain(`delivery replay-1 (pull_request) → ${url}`);
    expect(cli.stdout()).toContain('HTTP 202');
    expect(JSON.parse(cli.stdout().split('\n')[2] ?? '')).toEqual({
      status: 'recorded',
      deliveryId: 'replay-1',
    });

    // In the delivery log, for a worker's router to queue its evaluation.
    const log = new Queue(DELIVERY_QUEUE, { connection, prefix });
    const jobs = await log.getJobs(['waiting']);
    await log.close();
    expect(jobs.map((job) => job.data.work.pr.number)).toEqual([5]);
  });

  it('takes the secret from WEBHOOK_SECRET and prints what the gateway says', async () => {
    await payloadFile('ping.json', buildDelivery({ event: 'ping' }).body);
    const cli = captureCli({ cwd: dir, env: { WEBHOOK_SECRET: SECRET } });
    expect(await runCli(['replay', 'ping.json', '--event', 'ping', '--url', url], cli.ctx)).toBe(0);
    expect(cli.stdout()).toMatch(/HTTP 200/);
  });

  it("finds the gateway at the gateway's PORT and WEBHOOK_PATH when no --url is given", async () => {
    await payloadFile('ping-env.json', buildDelivery({ event: 'ping' }).body);
    const { port, pathname } = new URL(url);
    const cli = captureCli({ cwd: dir, env: { WEBHOOK_SECRET: SECRET, PORT: port, WEBHOOK_PATH: pathname } });
    expect(await runCli(['replay', 'ping-env.json', '--event', 'ping'], cli.ctx)).toBe(0);
    expect(cli.stdout()).toContain(`→ ${url}`);
    expect(cli.stdout()).toMatch(/HTTP 200/);
  });

  it('refuses a PORT, WEBHOOK_PATH or APP_ID it cannot use, naming the variable', async () => {
    await payloadFile('ping-bad-env.json', buildDelivery({ event: 'ping' }).body);
    const cases: [Record<string, string>, string[], RegExp][] = [
      [{ PORT: 'three thousand' }, [], /PORT: "three thousand" is not a whole number/],
      [{ WEBHOOK_PATH: 'hooks' }, [], /WEBHOOK_PATH: must be a URL path starting with \//],
      [{ APP_ID: 'my-app' }, ['--url', url], /APP_ID: "my-app" is not a positive whole number/],
    ];
    for (const [env, args, message] of cases) {
      const cli = captureCli({ cwd: dir, env: { WEBHOOK_SECRET: SECRET, ...env } });
      expect(await runCli(['replay', 'ping-bad-env.json', '--event', 'ping', ...args], cli.ctx)).toBe(78);
      expect(cli.stderr()).toMatch(message);
    }
  });

  it('exits 1 and shows the 401 when the secret is wrong', async () => {
    await payloadFile('wrong.json', labeled().body);
    const cli = captureCli({ cwd: dir });
    const code = await runCli(
      ['replay', 'wrong.json', '--event', 'pull_request', '--url', url, '--secret', 'not-the-secret'],
      cli.ctx,
    );
    expect(code).toBe(1);
    expect(cli.stdout()).toContain('HTTP 401');
    expect(cli.stderr()).toContain('the gateway answered 401');
  });

  it('says what is wrong with a missing file, bad JSON, a missing secret or no gateway', async () => {
    await payloadFile('broken.json', '{"action": ');
    const closedPort = await freePort();
    const cases: [string[], RegExp][] = [
      [['replay', 'nope.json', '-e', 'ping', '-s', SECRET, '-u', url], /cannot read the payload nope\.json/],
      [['replay', 'broken.json', '-e', 'ping', '-s', SECRET, '-u', url], /broken\.json is not JSON/],
      [['replay', 'broken.json', '-e', 'ping', '-u', url], /pass --secret or set WEBHOOK_SECRET/],
      [
        ['replay', 'ping.json', '-e', 'ping', '-s', SECRET, '-u', `http://127.0.0.1:${closedPort}/hook`],
        /cannot reach .*ECONNREFUSED.*is the gateway running/,
      ],
    ];
    await payloadFile('ping.json', buildDelivery({ event: 'ping' }).body);
    for (const [args, message] of cases) {
      const cli = captureCli({ cwd: dir });
      expect(await runCli(args, cli.ctx), args.join(' ')).toBe(1);
      expect(cli.stderr()).toMatch(message);
    }
  });
});

describe('signWebhookBody', () => {
  it("gives GitHub's documented X-Hub-Signature-256 for its example secret and payload", () => {
    // docs.github.com, "Validating webhook deliveries": the values GitHub gives to test an implementation.
    expect(signWebhookBody('Hello, World!', "It's a Secret to Everybody")).toBe(
      'sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17',
    );
  });
});
