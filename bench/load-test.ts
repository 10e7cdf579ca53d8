import type { EventEmitter } from 'node:events';
import autocannon from 'autocannon';

/** One HTTP request as autocannon sends it. */
export interface LoadRequest {
  path: string;
  headers: Record<string, string>;
  body: Buffer;
}

export interface LoadOptions {
  /** e.g. `http://127.0.0.1:3000` */
  origin: string;
  connections: number;
  /** Seconds; or `amount` requests in all. */
  durationSeconds?: number;
  amount?: number;
  /** Requests per second over all connections (a fixed rate, not as fast as possible). */
  overallRate?: number;
  /** The same request every time, or the next one of a prepared series each time. */
  request: LoadRequest | (() => LoadRequest);
}

export interface LoadResult {
  requests: number;
  durationSeconds: number;
  /** Requests answered per second over the whole run. */
  requestsPerSecond: number;
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
  /** Answers by status code, e.g. `{ '202': 9000 }`. */
  statuses: Record<string, number>;
  errors: number;
  timeouts: number;
}

/** Run autocannon against `origin` with POST requests; resolves with its figures. */
export async function runLoad(opts: LoadOptions): Promise<LoadResult> {
  const source = opts.request;
  const first = typeof source === 'function' ? source() : source;
  const instance = autocannon({
    // The path must be part of the URL: autocannon takes the path from it, not from `path`.
    url: `${opts.origin}${first.path}`,
    connections: opts.connections,
    pipelining: 1,
    timeout: 10,
    ...(opts.amount !== undefined ? { amount: opts.amount } : { duration: opts.durationSeconds ?? 10 }),
    ...(opts.overallRate !== undefined ? { overallRate: opts.overallRate } : {}),
    method: 'POST',
    headers: first.headers,
    body: first.body,
    ...(typeof source === 'function'
      ? {
          requests: [
            {
              // Called for every request: each one takes the next prepared delivery.
              setupRequest: (request: autocannon.Request) => {
                const next = source();
                return { ...request, path: next.path, headers: next.headers, body: next.body };
              },
            },
          ],
        }
      : {}),
  });
  // autocannon ends a run on its next one-second tick, so in `amount` mode its duration (and
  // finish time) can be up to a second past the last answer: time the run up to that answer.
  const startedAt = performance.now();
  let lastAnswerAt = startedAt;
  // The returned promise is autocannon's event emitter too; its typings (v7) only say Promise.
  (instance as unknown as EventEmitter).on('response', () => {
    lastAnswerAt = performance.now();
  });
  const result = await instance;
  const statuses: Record<string, number> = {};
  // autocannon 8 reports counts per status code; its typings (v7) do not know the field yet.
  const stats = (result as unknown as { statusCodeStats?: Record<string, { count: number }> })
    .statusCodeStats;
  for (const [code, { count }] of Object.entries(stats ?? {})) statuses[code] = count;
  const requests = result.requests.total;
  const seconds = opts.amount !== undefined ? (lastAnswerAt - startedAt) / 1000 : result.duration;
  return {
    requests,
    durationSeconds: seconds,
    requestsPerSecond: seconds > 0 ? requests / seconds : 0,
    p50Ms: result.latency.p50,
    p99Ms: result.latency.p99,
    maxMs: result.latency.max,
    statuses,
    errors: result.errors,
    timeouts: result.timeouts,
  };
}
