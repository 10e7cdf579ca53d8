import type { AddressInfo } from 'node:net';
import { sendDelivery } from '@evalbot/github-sim';
import { compareJobSchema } from '@evalbot/jobs';
import { sharedRedis } from '@evalbot/test-utils';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  allJobs,
  delivery,
  routeRecorded,
  SECRET,
  startGateway,
  type TestGateway,
  WEBHOOK_PATH,
} from './gateway-fixtures.ts';

let redis: { url: string; close: () => Promise<void> };
let gw: TestGateway;
let url: string;

beforeAll(async () => {
  redis = await sharedRedis();
  gw = await startGateway(redis.url);
  await gw.app.listen({ port: 0, host: '127.0.0.1' });
  url = `http://127.0.0.1:${(gw.app.server.address() as AddressInfo).port}${WEBHOOK_PATH}`;
});
afterAll(async () => {
  await gw.close();
  await redis.close();
});

describe('over real HTTP', () => {
  it('records a labeled PR delivered as GitHub sends it, for the router to queue its flow', async () => {
    const d = delivery('pull_request', 'labeled', { label: 'Evaluate' });
    const res = await sendDelivery(url, d, SECRET);
    expect(res.status).toBe(202);
    expect(JSON.parse(res.body)).toEqual({ status: 'recorded', deliveryId: d.id });
    expect(await routeRecorded(gw.producer, d.id)).toMatchObject({ status: 'queued' });
    const jobs = await allJobs(gw.producer);
    expect(jobs.compare).toHaveLength(1);
    expect(jobs.evaluate).toHaveLength(2);
    expect(compareJobSchema.parse(jobs.compare[0]?.data).request.deliveryId).toBe(d.id);
  });

  it('refuses a delivery signed with another secret', async () => {
    const res = await sendDelivery(url, delivery('ping', undefined), 'someone-else');
    expect(res.status).toBe(401);
  });
});
