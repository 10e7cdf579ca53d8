import { type AddressInfo, connect, type Socket } from 'node:net';
import { deliveryHeaders, sendDelivery, type WebhookDelivery } from '@evalbot/github-sim';
import { deliveryJobSchema } from '@evalbot/jobs';
import { sharedRedis, waitFor } from '@evalbot/test-utils';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BODY_LIMIT_BYTES } from '../src/body-limits.ts';
import {
  BASE,
  delivery,
  deliveryLog,
  SECRET,
  startGateway,
  type TestGateway,
  WEBHOOK_PATH,
} from './gateway-fixtures.ts';

// Small deadlines so a cut-off is awaited in a second, not in GitHub's minutes.
const REQUEST_TIMEOUT_MS = 2_000;
const HEADERS_TIMEOUT_MS = 500;
const LARGE_BODY_BYTES = 64 * 1024;
const MAX_LARGE_BODIES = 2;

let redis: { url: string; close: () => Promise<void> };
let gw: TestGateway;
let publicPort: number;
let internalPort: number;

beforeAll(async () => {
  redis = await sharedRedis();
  gw = await startGateway(redis.url, {
    REQUEST_TIMEOUT_MS: String(REQUEST_TIMEOUT_MS),
    HEADERS_TIMEOUT_MS: String(HEADERS_TIMEOUT_MS),
    LARGE_BODY_BYTES: String(LARGE_BODY_BYTES),
    MAX_LARGE_BODIES: String(MAX_LARGE_BODIES),
  });
  await gw.app.listen({ port: 0, host: '127.0.0.1' });
  await gw.internal.listen({ port: 0, host: '127.0.0.1' });
  publicPort = (gw.app.server.address() as AddressInfo).port;
  internalPort = (gw.internal.server.address() as AddressInfo).port;
});
afterAll(async () => {
  await gw?.close();
  await redis?.close();
});

async function queuedDeliveryIds(): Promise<string[]> {
  return (await deliveryLog(gw.producer)).map((job) => deliveryJobSchema.parse(job.data).deliveryId);
}

interface RawAnswer {
  /** 0 when the connection closed before a status line came. */
  status: number;
  head: string;
  body: string;
}

interface RawClient {
  socket: Socket;
  /** Everything the server sent, once it closed the connection. */
  closed: Promise<RawAnswer>;
  /** Write one byte every `everyMs` until the connection closes. */
  trickle(everyMs: number): void;
}

/** A client on a bare TCP socket that writes `head` (and `body`, if any) and then waits. */
function openRaw(port: number, head: string, body: Buffer | string = ''): RawClient {
  const socket = connect(port, '127.0.0.1');
  socket.write(head);
  if (body.length > 0) socket.write(body);
  // The server may close while bytes are still on their way to it; the answer is what counts.
  socket.on('error', () => {});
  let timer: NodeJS.Timeout | undefined;
  const chunks: Buffer[] = [];
  socket.on('data', (chunk: Buffer) => chunks.push(chunk));
  const closed = new Promise<RawAnswer>((resolve) => {
    socket.once('close', () => {
      clearInterval(timer);
      const text = Buffer.concat(chunks).toString('utf8');
      const [headPart = '', bodyPart = ''] = text.split('\r\n\r\n', 2);
      resolve({ status: Number(/^HTTP\/1\.1 (\d{3})/.exec(text)?.[1] ?? 0), head: headPart, body: bodyPart });
    });
  });
  return {
    socket,
    closed,
    trickle(everyMs) {
      timer = setInterval(() => {
        if (!socket.destroyed && socket.writable) socket.write('x');
      }, everyMs);
    },
  };
}

/** A POST head with GitHub's headers for `d`, announcing `contentLength` bytes. */
async function postHead(d: WebhookDelivery, contentLength: number, body = d.body): Promise<string> {
  const headers = await deliveryHeaders({ ...d, body }, SECRET);
  const lines = [
    `POST ${WEBHOOK_PATH} HTTP/1.1`,
    `Host: 127.0.0.1:${publicPort}`,
    ...Object.entries(headers).map(([name, value]) => `${name}: ${value}`),
    `Content-Length: ${contentLength}`,
    // So that the server closes the connection once it has answered, and `closed` resolves.
    'Connection: close',
  ];
  return `${lines.join('\r\n')}\r\n\r\n`;
}

/** `d` with a padding field that makes its body exactly `bytes` long (still signed JSON). */
function padded(d: WebhookDelivery, bytes: number): WebhookDelivery {
  const empty = JSON.stringify({ ...d.payload, evalbot_test_padding: '' });
  const fill = bytes - Buffer.byteLength(empty);
  if (fill < 0) throw new Error(`the delivery is already over ${bytes} bytes`);
  const payload = { ...d.payload, evalbot_test_padding: 'x'.repeat(fill) };
  return { ...d, payload, body: JSON.stringify(payload) };
}

async function largeBodiesInFlight(): Promise<number> {
  const text = await (await fetch(`http://127.0.0.1:${internalPort}/metrics`)).text();
  return Number(/^evalbot_gateway_large_bodies_in_flight (\d+)$/m.exec(text)?.[1] ?? Number.NaN);
}

let heads = 0;
/** A labeled delivery of a PR of its own, so that none is a duplicate or supersedes another. */
const labeled = () => {
  heads += 1;
  const headSha = heads.toString(16).padStart(40, 'c');
  return delivery('pull_request', 'labeled', {
    label: 'evaluate',
    pullRequest: { number: 100 + heads, headSha, baseSha: BASE, headRef: 'wider-net', author: 'alice' },
  });
};

describe('a slow client', () => {
  it('is cut off with 408 when it trickles an announced 25 MB body past REQUEST_TIMEOUT_MS', async () => {
    const d = labeled();
    const client = openRaw(publicPort, await postHead(d, BODY_LIMIT_BYTES), d.body.slice(0, 100));
    // A byte every 100 ms: never idle long enough for an idle timeout to stop it.
    client.trickle(100);
    const answer = await client.closed;
    expect(answer.status).toBe(408);
    // Its large-body slot is given back with the connection.
    await waitFor(async () => (await largeBodiesInFlight()) === 0, { what: 'the slot to be released' });
    expect(await queuedDeliveryIds()).not.toContain(d.id);
  });

  it('is disconnected once refused for missing headers, while it trickles an announced 26 MB body', async () => {
    const head = [
      `POST ${WEBHOOK_PATH} HTTP/1.1`,
      'Host: 127.0.0.1',
      'Content-Type: application/json',
      `Content-Length: ${26 * 1024 * 1024}`,
    ];
    const client = openRaw(publicPort, `${head.join('\r\n')}\r\n\r\n`, '{');
    client.trickle(100);
    const answer = await client.closed;
    // Closed right after the refusal, not held open to read the body (then cut off with a 408
    // after the refusal, which the body would show).
    expect(answer.status).toBe(400);
    expect(JSON.parse(answer.body).reason).toMatch(/Required headers missing: x-github-event/);
  });

  it('is cut off with 408 when it sends its headers a byte at a time past HEADERS_TIMEOUT_MS', async () => {
    const started = performance.now();
    const client = openRaw(publicPort, `POST ${WEBHOOK_PATH} HTTP/1.1\r\nHost: 127.0.0.1\r\n`);
    client.trickle(50);
    const answer = await client.closed;
    expect(answer.status).toBe(408);
    // By the headers' own deadline, not the whole request's.
    expect(performance.now() - started).toBeLessThan(REQUEST_TIMEOUT_MS);
  });

  it('is cut off when it connects and sends nothing', async () => {
    const answer = await openRaw(publicPort, '').closed;
    expect(answer.status).toBe(408);
  });
});

describe('body sizes', () => {
  it('accepts a delivery of exactly 25 MB, the most GitHub sends', async () => {
    const d = padded(labeled(), BODY_LIMIT_BYTES);
    expect(Buffer.byteLength(d.body)).toBe(BODY_LIMIT_BYTES);
    const res = await sendDelivery(`http://127.0.0.1:${publicPort}${WEBHOOK_PATH}`, d, SECRET);
    expect(res.status).toBe(202);
    expect(JSON.parse(res.body)).toMatchObject({ status: 'recorded' });
    expect(await queuedDeliveryIds()).toContain(d.id);
  });

  it('answers 413 to an announced 26 MB body at once and closes the connection', async () => {
    const d = labeled();
    const client = openRaw(publicPort, await postHead(d, 26 * 1024 * 1024), d.body);
    // Not a byte more is sent: the answer cannot wait for the body.
    const answer = await client.closed;
    expect(answer.status).toBe(413);
    expect(JSON.parse(answer.body).reason).toMatch(/25 MB/);
  });
});

describe('large bodies at once', () => {
  it('refuses one more than MAX_LARGE_BODIES with 503 and Retry-After, while small deliveries get through', async () => {
    const held = await Promise.all(
      Array.from({ length: MAX_LARGE_BODIES }, async () => {
        const d = padded(labeled(), 4 * LARGE_BODY_BYTES);
        const client = openRaw(publicPort, await postHead(d, d.body.length), d.body.slice(0, 1000));
        return { d, client };
      }),
    );
    await waitFor(async () => (await largeBodiesInFlight()) === MAX_LARGE_BODIES, {
      what: 'both large bodies to be in flight',
    });

    const extra = padded(labeled(), 2 * LARGE_BODY_BYTES);
    const refused = await openRaw(
      publicPort,
      await postHead(extra, extra.body.length),
      extra.body.slice(0, 1000),
    ).closed;
    expect(refused.status).toBe(503);
    expect(refused.head).toMatch(/^retry-after: 10$/im);
    expect(JSON.parse(refused.body)).toMatchObject({
      status: 'unavailable',
      reason: expect.stringMatching(
        /2 deliveries over 65536 bytes are being read already \(MAX_LARGE_BODIES\)/,
      ),
    });

    const small = labeled();
    const smallAnswer = await sendDelivery(`http://127.0.0.1:${publicPort}${WEBHOOK_PATH}`, small, SECRET);
    expect(smallAnswer.status).toBe(202);

    // The held bodies are finished and accepted; their slots are free for the next large one.
    for (const { d, client } of held) client.socket.write(d.body.slice(1000));
    for (const { client } of held) expect((await client.closed).status).toBe(202);
    await waitFor(async () => (await largeBodiesInFlight()) === 0, { what: 'the slots to be released' });
    const again = await sendDelivery(`http://127.0.0.1:${publicPort}${WEBHOOK_PATH}`, extra, SECRET);
    expect(again.status).toBe(202);
    expect(await queuedDeliveryIds()).toEqual(
      expect.arrayContaining([...held.map(({ d }) => d.id), small.id, extra.id]),
    );
  });

  it('counts a chunked body, whose length is not announced, as large', async () => {
    const chunked = async () => {
      const d = labeled();
      const head = (await postHead(d, 0)).replace('Content-Length: 0', 'Transfer-Encoding: chunked');
      return openRaw(publicPort, head, `10\r\n${d.body.slice(0, 16)}\r\n`);
    };
    const held = await Promise.all(Array.from({ length: MAX_LARGE_BODIES }, chunked));
    await waitFor(async () => (await largeBodiesInFlight()) === MAX_LARGE_BODIES, {
      what: 'both chunked bodies to be in flight',
    });
    expect((await (await chunked()).closed).status).toBe(503);
    const small = labeled();
    expect((await sendDelivery(`http://127.0.0.1:${publicPort}${WEBHOOK_PATH}`, small, SECRET)).status).toBe(
      202,
    );
    for (const client of held) client.socket.destroy();
    await waitFor(async () => (await largeBodiesInFlight()) === 0, { what: 'the slots to be released' });
  });
});

describe('ports', () => {
  it('serves only the webhook path and /healthz on the public port, and /metrics and /readyz on the internal one', async () => {
    const on = (port: number, path: string) => fetch(`http://127.0.0.1:${port}${path}`);
    expect((await on(publicPort, '/metrics')).status).toBe(404);
    expect((await on(publicPort, '/readyz')).status).toBe(404);
    expect(await (await on(publicPort, '/healthz')).json()).toEqual({ status: 'ok' });

    const metrics = await on(internalPort, '/metrics');
    expect(metrics.status).toBe(200);
    expect(await metrics.text()).toMatch(/^evalbot_gateway_redis_up 1$/m);
    expect(await (await on(internalPort, '/readyz')).json()).toEqual({ status: 'ready' });
    expect(await (await on(internalPort, '/healthz')).json()).toEqual({ status: 'ok' });
    // Deliveries are not taken on the internal port.
    const d = labeled();
    expect((await sendDelivery(`http://127.0.0.1:${internalPort}${WEBHOOK_PATH}`, d, SECRET)).status).toBe(
      404,
    );
  });
});

describe('connections at once', () => {
  it('closes one more than MAX_CONNECTIONS unanswered, so stalled small bodies cannot pile up, and serves again once one ends', async () => {
    const capped = await startGateway(redis.url, {
      REQUEST_TIMEOUT_MS: String(REQUEST_TIMEOUT_MS),
      HEADERS_TIMEOUT_MS: String(HEADERS_TIMEOUT_MS),
      MAX_CONNECTIONS: '3',
    });
    try {
      await capped.app.listen({ port: 0, host: '127.0.0.1' });
      const port = (capped.app.server.address() as AddressInfo).port;
      // Three clients each stall a small body (under LARGE_BODY_BYTES: no slot is needed).
      const stalled = await Promise.all(
        [labeled(), labeled(), labeled()].map(async (d) => ({
          d,
          client: openRaw(port, await postHead(d, d.body.length), d.body.slice(0, 100)),
        })),
      );
      const dropped = await openRaw(port, await postHead(labeled(), 10), '{}').closed;
      expect(dropped.status).toBe(0);

      const [first, ...rest] = stalled;
      first?.client.socket.write(first.d.body.slice(100));
      expect((await first?.client.closed)?.status).toBe(202);
      const next = labeled();
      await waitFor(
        async () =>
          (
            await sendDelivery(`http://127.0.0.1:${port}${WEBHOOK_PATH}`, next, SECRET).catch(() => ({
              status: 0,
            }))
          ).status === 202,
        { what: 'a delivery to be accepted once a connection is free' },
      );
      for (const { client } of rest) client.socket.destroy();
    } finally {
      await capped.close();
    }
  });
});
