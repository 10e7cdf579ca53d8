import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createGitHubApp, type GitHubApp } from '@evalbot/github';
import { buildDelivery, type GitHubSim, startGitHubSim } from '@evalbot/github-sim';
import {
  createJobProducer,
  createRedisConnection,
  DELIVERY_QUEUE,
  type JobProducer,
  waitForRedisReady,
} from '@evalbot/jobs';
import { createLogger } from '@evalbot/logger';
import { sharedRedis, testPrefix } from '@evalbot/test-utils';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { recoverMissedDeliveries } from '../src/recover-missed-deliveries.ts';

// The recovery job as a plain function, against the GitHub stand-in's delivery log, a real
// Redis and a receiver standing in for the gateway whose answer each test chooses.
let redis: { url: string; close: () => Promise<void> };
let sim: GitHubSim;
let github: GitHubApp;
let producer: JobProducer;
let receiver: Server;
let answer = 503;
let received: string[] = [];

const logger = createLogger({ service: 'evalbot-test', level: 'warn', destination: { write: () => {} } });

beforeAll(async () => {
  redis = await sharedRedis();
});
afterAll(async () => redis.close());

beforeEach(async () => {
  sim = await startGitHubSim();
  github = createGitHubApp({ appId: sim.appId, privateKey: sim.privateKey ?? '', apiUrl: sim.url, logger });
  const connection = createRedisConnection({ url: redis.url }, { role: 'producer' });
  producer = createJobProducer({ connection, prefix: testPrefix() });
  await waitForRedisReady(connection);
  answer = 503;
  received = [];
  receiver = createServer((req, res) => {
    received.push(String(req.headers['x-github-delivery']));
    req.resume();
    req.on('end', () => res.writeHead(answer, { 'content-type': 'application/json' }).end('{}'));
  });
  await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
  sim.setWebhookTarget({ url: `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/` });
});
afterEach(async () => {
  const keys = await producer.connection.keys(`${producer.prefix}:*`);
  if (keys.length > 0) await producer.connection.del(...keys);
  await producer.close();
  producer.connection.disconnect();
  receiver.closeAllConnections();
  await new Promise((resolve) => receiver.close(resolve));
  await sim.close();
});

const labeled = () =>
  buildDelivery({
    event: 'pull_request',
    action: 'labeled',
    label: 'evaluate',
    pullRequest: { number: 4, headSha: 'a'.repeat(40), baseSha: 'b'.repeat(40) },
  });

const recover = () => recoverMissedDeliveries({ appOctokit: github.appOctokit, producer, logger });
const redeliveriesOf = (guid: string) => sim.hookDeliveries.filter((a) => a.guid === guid && a.redelivery);

describe('recoverMissedDeliveries', () => {
  it('asks GitHub to redeliver a delivery the gateway answered 503, and the gateway gets it', async () => {
    const d = labeled();
    await sim.deliver(d);
    answer = 202;
    const report = await recover();
    expect(report).toMatchObject({ failed: 1, redelivered: [d.id], recorded: [], alreadyAsked: [] });
    await sim.redeliveriesSettled();
    expect(received).toEqual([d.id, d.id]);
    expect(redeliveriesOf(d.id)).toEqual([expect.objectContaining({ statusCode: 202, status: 'OK' })]);
    // Handed over now: the next pass has nothing to do.
    expect(await recover()).toMatchObject({ failed: 0, redelivered: [] });
  });

  it('asks again only after a redelivery failed too, and at most three times', async () => {
    const d = labeled();
    await sim.deliver(d);
    for (let ask = 1; ask <= 3; ask += 1) {
      expect((await recover()).redelivered).toEqual([d.id]);
      await sim.redeliveriesSettled();
    }
    expect(await recover()).toMatchObject({ failed: 1, redelivered: [], gaveUp: [d.id] });
    await sim.redeliveriesSettled();
    expect(redeliveriesOf(d.id)).toHaveLength(3);
  });

  it('does not ask again while the redelivery it asked for has not been attempted', async () => {
    const d = labeled();
    await sim.deliver(d);
    // The receiver holds the redelivery's answer until released.
    let release = () => {};
    const held = new Promise<void>((resolve) => {
      release = resolve;
    });
    receiver.removeAllListeners('request');
    receiver.on('request', (req, res) => {
      req.resume();
      void held.then(() => res.writeHead(503).end('{}'));
    });
    expect((await recover()).redelivered).toEqual([d.id]);
    expect(await recover()).toMatchObject({ redelivered: [], alreadyAsked: [d.id] });
    release();
    await sim.redeliveriesSettled();
    expect(redeliveriesOf(d.id)).toHaveLength(1);
  });

  it('redelivers a delivery sent while the gateway could not be reached', async () => {
    receiver.closeAllConnections();
    await new Promise((resolve) => receiver.close(resolve));
    const d = labeled();
    expect((await sim.deliver(d)).statusCode).toBe(0);
    receiver.listen(Number(new URL(sim.webhookTarget?.url ?? '').port), '127.0.0.1');
    await new Promise((resolve) => receiver.once('listening', resolve));
    answer = 202;
    expect((await recover()).redelivered).toEqual([d.id]);
    await sim.redeliveriesSettled();
    expect(received).toEqual([d.id]);
  });

  it('leaves alone a failed delivery the delivery log recorded', async () => {
    const d = labeled();
    await sim.deliver(d);
    // As when the gateway recorded it but GitHub stopped waiting for the answer.
    await producer.queues[DELIVERY_QUEUE].add('pull_request', { deliveryId: d.id }, { jobId: d.id });
    const report = await recover();
    expect(report).toMatchObject({ failed: 1, recorded: [d.id], redelivered: [] });
    expect(redeliveriesOf(d.id)).toEqual([]);
  });

  it('does not redeliver a delivery the gateway refused as bad (4xx)', async () => {
    answer = 401;
    await sim.deliver(labeled());
    expect(await recover()).toMatchObject({ failed: 0, redelivered: [] });
    expect(sim.hookDeliveries.filter((a) => a.redelivery)).toEqual([]);
  });

  it('pages through more deliveries than one page holds', async () => {
    const sent = Array.from({ length: 105 }, labeled);
    for (const d of sent) await sim.deliver(d);
    // All but the two oldest were recorded: those two are on the second page (newest first).
    for (const d of sent.slice(2)) {
      await producer.queues[DELIVERY_QUEUE].add('pull_request', { deliveryId: d.id }, { jobId: d.id });
    }
    const report = await recover();
    expect(report.listed).toBe(105);
    expect(report.recorded).toHaveLength(103);
    expect([...report.redelivered].sort()).toEqual([sent[0]?.id, sent[1]?.id].sort());
    await sim.redeliveriesSettled();
  });
});
