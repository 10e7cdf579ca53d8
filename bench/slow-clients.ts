import { randomBytes } from 'node:crypto';
import { connect } from 'node:net';
import { join } from 'node:path';
import { bundlePath, NODE_FLAGS } from '@evalbot/app-bundle';
import { freePort, REPO_ROOT, startRedis } from '@evalbot/local-stack';
import type { BenchContext } from './bench-context.ts';
import { startNodeService } from './node-service.ts';
import { readRss, sampleRss } from './process-rss.ts';

const WEBHOOK_PATH = '/api/github/webhooks';
const BODY_BYTES = 25 * 1024 * 1024;
/** What each client keeps back and then trickles, a byte every `TRICKLE_MS`. */
const HELD_BACK_BYTES = 1024;
const TRICKLE_MS = 5_000;
/** The gateway's defaults (apps/gateway/src/config.ts), set explicitly so the report states them. */
const MAX_LARGE_BODIES = 4;
const REQUEST_TIMEOUT_MS = 30_000;

export interface SlowClientsResult {
  clients: number;
  /** The gateway's settings in the run (its defaults). */
  maxLargeBodies: number;
  requestTimeoutMs: number;
  idleBytes: number;
  peakBytes: number;
  /** Status code (0: closed without an answer) → clients. */
  answers: Record<string, number>;
  /** From the first connection to the last one closed by the gateway. */
  lastClosedMs: number;
}

/**
 * `clients` connections at once to the gateway (the bundle, with its default limits), each announcing
 * a 25 MB delivery, sending all of it but the last KiB as fast as it goes, then a byte every
 * 5 s: the most a client can make the gateway buffer. The gateway's RSS is sampled until it
 * has closed every connection.
 */
export async function runSlowClients(ctx: BenchContext, clients = 50): Promise<SlowClientsResult> {
  const redis = await startRedis();
  const port = await freePort();
  const metricsPort = await freePort();
  const gateway = await startNodeService({
    name: 'gateway',
    nodeArgs: [...NODE_FLAGS.gateway, bundlePath('gateway')],
    cwd: join(REPO_ROOT, 'apps/gateway'),
    env: {
      PATH: ctx.env.PATH,
      HOME: ctx.env.HOME,
      LANG: ctx.env.LANG,
      REDIS_URL: redis.url,
      WEBHOOK_SECRET: randomBytes(20).toString('hex'),
      PORT: String(port),
      HOST: '127.0.0.1',
      GATEWAY_METRICS_PORT: String(metricsPort),
      MAX_LARGE_BODIES: String(MAX_LARGE_BODIES),
      REQUEST_TIMEOUT_MS: String(REQUEST_TIMEOUT_MS),
      BULLMQ_PREFIX: 'bench-slow',
      LOG_LEVEL: 'warn',
    },
    readyUrl: `http://127.0.0.1:${metricsPort}/readyz`,
    logFile: join(ctx.tmpDir, 'slow-clients-gateway.log'),
  });
  try {
    // Let start-up garbage settle before the idle figure.
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    const idleBytes = (await readRss(gateway.pid)) ?? 0;
    const body = Buffer.alloc(BODY_BYTES, 'x');
    const head = [
      `POST ${WEBHOOK_PATH} HTTP/1.1`,
      `Host: 127.0.0.1:${port}`,
      'Content-Type: application/json',
      'X-GitHub-Event: pull_request',
      `X-Hub-Signature-256: sha256=${'0'.repeat(64)}`,
      `Content-Length: ${BODY_BYTES}`,
    ];
    const rss = sampleRss(gateway.pid, 100);
    const started = performance.now();
    const answers: Record<string, number> = {};
    let lastClosedMs = 0;
    await Promise.all(
      Array.from(
        { length: clients },
        (_, i) =>
          new Promise<void>((resolve) => {
            const socket = connect(port, '127.0.0.1');
            let timer: NodeJS.Timeout | undefined;
            let received = '';
            socket.on('data', (chunk: Buffer) => {
              if (received.length < 64) received += chunk.toString('latin1');
            });
            // A refused client's writes fail once the gateway has closed; its answer is what counts.
            socket.on('error', () => {});
            socket.once('close', () => {
              clearInterval(timer);
              const status = /^HTTP\/1\.1 (\d{3})/.exec(received)?.[1] ?? '0';
              answers[status] = (answers[status] ?? 0) + 1;
              lastClosedMs = performance.now() - started;
              resolve();
            });
            socket.write(`${[...head, `X-GitHub-Delivery: slow-${i}`].join('\r\n')}\r\n\r\n`);
            socket.write(body.subarray(0, BODY_BYTES - HELD_BACK_BYTES), () => {
              let sent = BODY_BYTES - HELD_BACK_BYTES;
              timer = setInterval(() => {
                if (sent < BODY_BYTES - 1 && !socket.destroyed) {
                  socket.write(body.subarray(sent, sent + 1));
                  sent += 1;
                }
              }, TRICKLE_MS);
            });
          }),
      ),
    );
    const { peakBytes } = await rss.stop();
    return {
      clients,
      maxLargeBodies: MAX_LARGE_BODIES,
      requestTimeoutMs: REQUEST_TIMEOUT_MS,
      idleBytes,
      peakBytes,
      answers,
      lastClosedMs,
    };
  } finally {
    await gateway.stop();
    await redis.close();
  }
}
