import { randomBytes } from 'node:crypto';
import { cpus } from 'node:os';
import { join } from 'node:path';
import { bundlePath, NODE_FLAGS } from '@evalbot/app-bundle';
import { freePort, REPO_ROOT, startRedis } from '@evalbot/local-stack';
import { Redis } from 'ioredis';
import type { BenchContext } from './bench-context.ts';
import { type GatewayRunMetrics, gcText, loopDelayText, watchGatewayMetrics } from './gateway-metrics.ts';
import { type LoadRequest, type LoadResult, runLoad } from './load-test.ts';
import { startNodeService } from './node-service.ts';
import { type PacedLoadResult, runPacedLoad } from './paced-load.ts';
import { cpuMs } from './process-cpu.ts';
import { readRss, sampleRss } from './process-rss.ts';
import { type SectionResult, type TargetResult, table, targetsTable } from './section.ts';
import { count, megabytes, ratio, verdict } from './stats.ts';
import { cycle, enqueuedRequests, ignoredRequest } from './webhook-requests.ts';

const WEBHOOK_PATH = '/api/github/webhooks';
const CONNECTIONS = 10;
const FIXED_RATE = 1000;

/** The gateway's memory while the ingestion load ran, for the memory section. */
export interface GatewayMemory {
  idleBytes: number;
  peakBytes: number;
  /** What load it was measured under. */
  under: string;
}

export interface IngestionResult {
  section: SectionResult;
  gatewayMemory: GatewayMemory;
}

/** CPU milliseconds per request: the server process, Redis, and autocannon (this process). */
interface CpuPerRequest {
  server: number;
  redis: number;
  loadGenerator: number;
}

interface PacedRow {
  kind: 'ignored' | 'enqueued';
  app: 'bare' | 'gateway';
  result: PacedLoadResult & { cpu: CpuPerRequest; gateway?: GatewayRunMetrics | undefined };
}

interface Row {
  kind: 'ignored' | 'enqueued';
  app: 'bare' | 'gateway';
  result: LoadResult & { cpu: CpuPerRequest };
}

async function redisPid(url: string): Promise<number> {
  const probe = new Redis(url, { lazyConnect: true });
  try {
    await probe.connect();
    return Number(/process_id:(\d+)/.exec(await probe.info('server'))?.[1] ?? Number.NaN);
  } finally {
    probe.disconnect();
  }
}

function cpuText(cpu: CpuPerRequest): string {
  return `${cpu.server.toFixed(2)} / ${cpu.redis.toFixed(2)} / ${cpu.loadGenerator.toFixed(2)}`;
}

function answers(result: Pick<LoadResult, 'statuses' | 'errors'> & { timeouts?: number }): string {
  const parts = Object.entries(result.statuses).map(([code, n]) => `${code} ×${count(n)}`);
  if (result.errors > 0) parts.push(`errors ×${count(result.errors)}`);
  if (result.timeouts) parts.push(`timeouts ×${count(result.timeouts)}`);
  return parts.join(', ') || 'none';
}

/** What a fixed-rate table shows of a run, whichever load generator made it. */
type FixedRateResult = Pick<
  LoadResult,
  'requests' | 'requestsPerSecond' | 'p50Ms' | 'p99Ms' | 'maxMs' | 'statuses' | 'errors'
>;

function ms(value: number): string {
  return `${value.toFixed(value < 10 ? 2 : 1)} ms`;
}

/**
 * Signed `pull_request` deliveries into the gateway (a real process, Redis behind it) and into
 * a bare Fastify app (its own process) with autocannon, one after the other in the same run:
 * as fast as they go, then at a fixed 1,000 requests/s. The gateway's RSS is sampled throughout.
 */
export async function runIngestion(ctx: BenchContext): Promise<IngestionResult> {
  const s = ctx.quick
    ? { seconds: 4, warmupSeconds: 1, pool: 3_000, warmupPool: 300, fixedSeconds: 4 }
    : { seconds: 10, warmupSeconds: 2, pool: 10_000, warmupPool: 1_000, fixedSeconds: 10 };
  const secret = randomBytes(20).toString('hex');
  const redis = await startRedis();
  const stops: (() => Promise<void>)[] = [() => redis.close()];
  try {
    const gatewayPort = await freePort();
    const gatewayMetricsPort = await freePort();
    const gateway = await startNodeService({
      name: 'gateway',
      nodeArgs: [...NODE_FLAGS.gateway, bundlePath('gateway')],
      cwd: join(REPO_ROOT, 'apps/gateway'),
      env: {
        PATH: ctx.env.PATH,
        HOME: ctx.env.HOME,
        LANG: ctx.env.LANG,
        REDIS_URL: redis.url,
        WEBHOOK_SECRET: secret,
        PORT: String(gatewayPort),
        HOST: '127.0.0.1',
        GATEWAY_METRICS_PORT: String(gatewayMetricsPort),
        BULLMQ_PREFIX: 'bench',
        LOG_LEVEL: 'info',
      },
      readyUrl: `http://127.0.0.1:${gatewayMetricsPort}/readyz`,
      logFile: join(ctx.tmpDir, 'ingestion-gateway.log'),
    });
    stops.unshift(() => gateway.stop());
    const barePort = await freePort();
    const bare = await startNodeService({
      name: 'bare Fastify app',
      nodeArgs: ['--import', 'tsx', join(REPO_ROOT, 'bench/bare-app.ts'), String(barePort), WEBHOOK_PATH],
      cwd: REPO_ROOT,
      env: { PATH: ctx.env.PATH, HOME: ctx.env.HOME, LANG: ctx.env.LANG },
      readyUrl: `http://127.0.0.1:${barePort}/readyz`,
      logFile: join(ctx.tmpDir, 'ingestion-bare.log'),
    });
    stops.unshift(() => bare.stop());
    const origin = { bare: `http://127.0.0.1:${barePort}`, gateway: `http://127.0.0.1:${gatewayPort}` };

    const idleBytes = (await readRss(gateway.pid)) ?? 0;
    const rss = sampleRss(gateway.pid, 100);
    const pids = { bare: bare.pid, gateway: gateway.pid, redis: await redisPid(redis.url) };
    /** `run`'s result with the CPU each process used per request while it ran. */
    const withCpu = async <R extends { requests: number }>(
      app: 'bare' | 'gateway',
      run: () => Promise<R>,
    ): Promise<R & { cpu: CpuPerRequest }> => {
      const before = {
        server: await cpuMs(pids[app]),
        redis: await cpuMs(pids.redis),
        self: process.cpuUsage(),
      };
      const result = await run();
      const self = process.cpuUsage(before.self);
      const per = (ms: number) => ms / Math.max(1, result.requests);
      return {
        ...result,
        cpu: {
          server: per((await cpuMs(pids[app])) - before.server),
          redis: per((await cpuMs(pids.redis)) - before.redis),
          loadGenerator: per((self.user + self.system) / 1000),
        },
      };
    };
    const load = (
      app: 'bare' | 'gateway',
      request: LoadRequest | (() => LoadRequest),
      extra: object,
    ): Promise<Row['result']> =>
      withCpu(app, () => runLoad({ origin: origin[app], connections: CONNECTIONS, request, ...extra }));
    const metricsUrl = `http://127.0.0.1:${gatewayMetricsPort}/metrics`;
    /** The paced load, with CPU per request and, for the gateway, its event-loop delay and GC pauses. */
    const pacedLoad = async (
      app: 'bare' | 'gateway',
      request: LoadRequest | (() => LoadRequest),
    ): Promise<PacedRow['result']> => {
      const watch = app === 'gateway' ? await watchGatewayMetrics(metricsUrl) : undefined;
      const result = await withCpu(app, () =>
        runPacedLoad({ origin: origin[app], rate: FIXED_RATE, seconds: s.fixedSeconds, request }),
      );
      return { ...result, gateway: await watch?.finish() };
    };

    // As fast as they go.
    const ignored = await ignoredRequest(secret, WEBHOOK_PATH);
    const fastest: Row[] = [];
    for (const app of ['bare', 'gateway'] as const) {
      ctx.log(`ingestion: ignored deliveries → ${app}, ${s.seconds} s`);
      await load(app, ignored, { durationSeconds: s.warmupSeconds });
      fastest.push({
        kind: 'ignored',
        app,
        result: await load(app, ignored, { durationSeconds: s.seconds }),
      });
    }
    ctx.log(`ingestion: preparing ${count(s.pool + s.warmupPool)} distinct signed labeled deliveries`);
    let pool = await enqueuedRequests(s.pool + CONNECTIONS, secret, WEBHOOK_PATH);
    let warmup = await enqueuedRequests(s.warmupPool + CONNECTIONS, secret, WEBHOOK_PATH);
    // The bare app first: it does not care that the requests repeat; the gateway then sees each once.
    ctx.log(`ingestion: labeled deliveries → bare, ${s.seconds} s`);
    await load('bare', cycle(warmup).next, { durationSeconds: s.warmupSeconds });
    fastest.push({
      kind: 'enqueued',
      app: 'bare',
      result: await load('bare', cycle(pool).next, { durationSeconds: s.seconds }),
    });
    ctx.log(`ingestion: ${count(s.pool)} distinct labeled deliveries → gateway`);
    await load('gateway', cycle(warmup).next, { amount: s.warmupPool });
    fastest.push({
      kind: 'enqueued',
      app: 'gateway',
      result: await load('gateway', cycle(pool).next, { amount: s.pool }),
    });

    // At a fixed rate: latency when the gateway is not saturated.
    const fixed: Row[] = [];
    for (const app of ['bare', 'gateway'] as const) {
      ctx.log(`ingestion: ignored deliveries at ${FIXED_RATE}/s → ${app}, ${s.fixedSeconds} s`);
      fixed.push({
        kind: 'ignored',
        app,
        result: await load(app, ignored, { durationSeconds: s.fixedSeconds, overallRate: FIXED_RATE }),
      });
    }
    pool = [];
    warmup = [];
    ctx.log(`ingestion: preparing ${count(FIXED_RATE * s.fixedSeconds)} distinct labeled deliveries`);
    pool = await enqueuedRequests(FIXED_RATE * s.fixedSeconds + 2 * CONNECTIONS, secret, WEBHOOK_PATH);
    for (const app of ['bare', 'gateway'] as const) {
      ctx.log(`ingestion: labeled deliveries at ${FIXED_RATE}/s → ${app}, ${s.fixedSeconds} s`);
      fixed.push({
        kind: 'enqueued',
        app,
        result: await load(app, cycle(pool).next, {
          durationSeconds: s.fixedSeconds,
          overallRate: FIXED_RATE,
        }),
      });
    }
    // At the same rate, evenly spaced and open loop: what a steady stream of deliveries sees.
    const paced: PacedRow[] = [];
    for (const app of ['bare', 'gateway'] as const) {
      ctx.log(`ingestion: ignored deliveries at ${FIXED_RATE}/s evenly spaced → ${app}, ${s.fixedSeconds} s`);
      paced.push({
        kind: 'ignored',
        app,
        result: await pacedLoad(app, ignored),
      });
    }
    pool = [];
    ctx.log(`ingestion: preparing ${count(FIXED_RATE * s.fixedSeconds)} distinct labeled deliveries`);
    pool = await enqueuedRequests(FIXED_RATE * s.fixedSeconds + CONNECTIONS, secret, WEBHOOK_PATH);
    for (const app of ['bare', 'gateway'] as const) {
      ctx.log(`ingestion: labeled deliveries at ${FIXED_RATE}/s evenly spaced → ${app}, ${s.fixedSeconds} s`);
      paced.push({
        kind: 'enqueued',
        app,
        result: await pacedLoad(app, cycle(pool).next),
      });
    }
    pool = [];
    const memory = await rss.stop();

    const find = <R>(
      rows: { kind: Row['kind']; app: Row['app']; result: R }[],
      kind: Row['kind'],
      app: Row['app'],
    ) => {
      const row = rows.find((r) => r.kind === kind && r.app === app);
      if (!row) throw new Error(`no ${kind}/${app} measurement`);
      return row.result;
    };
    const fixedRateTable = (rows: { kind: Row['kind']; app: Row['app']; result: FixedRateResult }[]) =>
      table(
        ['deliveries', 'app', 'requests', 'achieved/s', 'p50', 'p99', 'max', 'answers'],
        rows.map((r) => [
          label(r.kind),
          appName(r.app),
          count(r.result.requests),
          count(r.result.requestsPerSecond),
          ms(r.result.p50Ms),
          ms(r.result.p99Ms),
          ms(r.result.maxMs),
          answers(r.result),
        ]),
      );
    const ratioOf = (kind: Row['kind']) =>
      find(fastest, kind, 'gateway').requestsPerSecond / find(fastest, kind, 'bare').requestsPerSecond;
    const label = (kind: Row['kind']) =>
      kind === 'ignored' ? 'ignored (`opened`, no label)' : 'enqueued (`labeled`, each distinct)';
    const appName = (app: Row['app']) => (app === 'bare' ? 'bare Fastify' : 'gateway');

    const targets: TargetResult[] = [
      {
        name: 'ignored deliveries: gateway / bare Fastify requests/s',
        measured: ratio(ratioOf('ignored')),
        target: '≥ 0.55×',
        met: ratioOf('ignored') >= 0.55,
      },
      {
        name: 'enqueued deliveries: gateway / bare Fastify requests/s',
        measured: ratio(ratioOf('enqueued')),
        target: '≥ 0.30×',
        met: ratioOf('enqueued') >= 0.3,
      },
      ...(['ignored', 'enqueued'] as const).map((kind) => {
        const p99 = find(paced, kind, 'gateway').p99Ms;
        return {
          name: `gateway p99 at ${count(FIXED_RATE)} requests/s, ${kind}`,
          measured: ms(p99),
          target: '< 10 ms',
          met: p99 < 10,
        };
      }),
    ];
    // Every enqueued request must really have been recorded (202), not answered 503.
    const enqueuedGateway = [
      find(fastest, 'enqueued', 'gateway'),
      find(fixed, 'enqueued', 'gateway'),
      find(paced, 'enqueued', 'gateway'),
    ];
    const notQueued = enqueuedGateway.reduce((n, r) => n + r.requests - (r.statuses['202'] ?? 0), 0);

    const markdown = [
      `Gateway: the bundle \`pnpm build\` writes, run as its image runs it (\`node ${NODE_FLAGS.gateway.join(' ')} apps/gateway/dist/main.js\`, \`LOG_LEVEL=info\`, log to a file), with a private \`redis-server\` (no persistence) behind it. Bare app: \`bench/bare-app.ts\`, a default Fastify instance in its own process whose route answers 200 \`{"status":"ok"}\` (Fastify parses the JSON body; no logger). autocannon runs in the bench process with ${CONNECTIONS} connections; each measurement follows a warm-up.`,
      '',
      `Requests: real example payloads from \`@octokit/webhooks-examples\` through \`buildDelivery\`, signed with \`deliveryHeaders\` (≈${Math.round(ignored.body.length / 1024)} KB each). *Ignored*: one \`pull_request\` \`opened\` delivery without the label, repeated (the gateway verifies, parses and routes it, and answers 202 without Redis). *Enqueued*: ${count(s.pool)} \`labeled\` deliveries prepared in advance, each with its own delivery id, PR number and head SHA, so each one becomes one job in the delivery log (written in \`addBulk\` batches; the router, in the workers, is not running here); autocannon takes the next one for every request (\`setupRequest\`), and the gateway run is \`amount: ${count(s.pool)}\` — every request distinct. The bare app got the same requests for ${s.seconds} s (it does not deduplicate).`,
      '',
      '**As fast as they go**',
      '',
      table(
        [
          'deliveries',
          'app',
          'requests',
          'requests/s',
          'p50',
          'p99',
          'answers',
          'CPU ms per request: app / Redis / autocannon',
          'gateway / bare',
        ],
        fastest.map((r) => [
          label(r.kind),
          appName(r.app),
          count(r.result.requests),
          count(r.result.requestsPerSecond),
          ms(r.result.p50Ms),
          ms(r.result.p99Ms),
          answers(r.result),
          cpuText(r.result.cpu),
          r.app === 'gateway' ? ratio(ratioOf(r.kind)) : '',
        ]),
      ),
      '',
      `**At a fixed ${count(FIXED_RATE)} requests/s, evenly spaced** (\`bench/paced-load.ts\`, ${s.fixedSeconds} s: request *i* is sent at *i* ms whatever became of the ones before it, over up to 64 keep-alive connections, and its latency counts from that scheduled time; enqueued: ${count(FIXED_RATE * s.fixedSeconds)} more distinct deliveries). The targets' p99 is this one.`,
      '',
      fixedRateTable(paced),
      '',
      `Why the tail (same runs): CPU per request, and for the gateway the event-loop delay over the run (how late a 10 ms timer fired: \`monitorEventLoopDelay\`, as \`evalbot_gateway_nodejs_eventloop_lag_*_seconds\` on its metrics port, scraped before and after) and its GC pauses (\`evalbot_gateway_nodejs_gc_duration_seconds\`; prom-client keeps the first entry of each batch the GC observer hands it, so these are lower bounds).`,
      '',
      table(
        [
          'deliveries',
          'app',
          'CPU ms per request: app / Redis / load generator',
          'event-loop delay',
          'GC pauses',
        ],
        paced.map((r) => [
          label(r.kind),
          appName(r.app),
          cpuText(r.result.cpu),
          r.result.gateway ? loopDelayText(r.result.gateway) : '',
          r.result.gateway ? gcText(r.result.gateway) : '',
        ]),
      ),
      '',
      `**At a fixed ${count(FIXED_RATE)} requests/s in bursts** (autocannon \`overallRate\`, ${s.fixedSeconds} s; enqueued: ${count(FIXED_RATE * s.fixedSeconds)} more distinct deliveries). autocannon gives each of its ${CONNECTIONS} connections its share of every second, which it sends back to back from the start of the second: these are the latencies of ${count(FIXED_RATE)}-request bursts answered as fast as the app goes.`,
      '',
      fixedRateTable(fixed),
      '',
      `CPU per request is read from \`/proc/<pid>/stat\` before and after each run; the machine has ${cpus().length} cores for the app, Redis and autocannon together, so an app that needs 1 ms of CPU per request cannot pass ~1,000 requests/s on its core.`,
      '',
      `Gateway RSS: ${megabytes(idleBytes)} idle after start, peak ${megabytes(memory.peakBytes)} during these runs (${memory.samples} samples of VmRSS every 100 ms; see Memory).${
        notQueued > 0 ? ` **${count(notQueued)} enqueued-run requests were not answered 202.**` : ''
      }`,
      '',
      targetsTable(targets),
    ].join('\n');
    for (const r of paced.filter((row) => row.result.gateway)) {
      const g = r.result.gateway as GatewayRunMetrics;
      ctx.log(
        `ingestion: gateway, ${r.kind} at ${FIXED_RATE}/s evenly spaced: p99 ${ms(r.result.p99Ms)}, CPU ms/request ${cpuText(r.result.cpu)}, event-loop delay ${loopDelayText(g)}, GC ${gcText(g)}`,
      );
    }
    for (const t of targets) ctx.log(`ingestion: ${t.name}: ${t.measured} (${t.target}) ${verdict(t.met)}`);
    return {
      section: { id: 'ingestion', title: 'Ingestion', markdown, targets },
      gatewayMemory: {
        idleBytes,
        peakBytes: memory.peakBytes,
        under: `the ingestion runs above (${CONNECTIONS} connections, up to ${count(Math.max(...fastest.map((r) => r.result.requestsPerSecond)))} requests/s)`,
      },
    };
  } finally {
    for (const stop of stops) await stop().catch(() => {});
  }
}
