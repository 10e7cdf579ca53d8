import { Agent, request as httpRequest } from 'node:http';
import type { LoadRequest, LoadResult } from './load-test.ts';

/** As autocannon's figures; `requestsPerSecond` from the first scheduled send to the last answer. */
export type PacedLoadResult = Omit<LoadResult, 'durationSeconds' | 'timeouts'>;

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] as number;
}

/**
 * Open-loop load at a fixed rate: request i is sent at start + i / rate, evenly spaced, whatever
 * became of the ones before it, and its latency counts from that scheduled time — so a server
 * that falls behind is charged for the queue it builds. (autocannon's `overallRate` instead
 * sends each connection's share of a second back to back at the start of the second.)
 */
export async function runPacedLoad(opts: {
  origin: string;
  rate: number;
  seconds: number;
  request: LoadRequest | (() => LoadRequest);
}): Promise<PacedLoadResult> {
  const url = new URL(opts.origin);
  const agent = new Agent({ keepAlive: true, maxSockets: 64 });
  const total = Math.round(opts.rate * opts.seconds);
  const latencies: number[] = [];
  const statuses: Record<string, number> = {};
  let errors = 0;
  let lastAnswerAt = 0;
  const inflight: Promise<void>[] = [];

  const send = (scheduledAt: number) => {
    const next = typeof opts.request === 'function' ? opts.request() : opts.request;
    inflight.push(
      new Promise<void>((resolve) => {
        const req = httpRequest(
          {
            agent,
            host: url.hostname,
            port: url.port,
            method: 'POST',
            path: next.path,
            headers: { ...next.headers, 'content-length': String(next.body.length) },
          },
          (res) => {
            res.resume();
            res.on('end', () => {
              lastAnswerAt = performance.now();
              latencies.push(lastAnswerAt - scheduledAt);
              const code = String(res.statusCode ?? 0);
              statuses[code] = (statuses[code] ?? 0) + 1;
              resolve();
            });
          },
        );
        req.on('error', () => {
          errors += 1;
          resolve();
        });
        req.end(next.body);
      }),
    );
  };

  const startedAt = performance.now();
  let sent = 0;
  await new Promise<void>((resolve) => {
    const tick = () => {
      const due = Math.min(total, Math.floor(((performance.now() - startedAt) * opts.rate) / 1000) + 1);
      while (sent < due) {
        send(startedAt + (sent * 1000) / opts.rate);
        sent += 1;
      }
      if (sent < total) setTimeout(tick, 1);
      else resolve();
    };
    tick();
  });
  await Promise.all(inflight);
  agent.destroy();
  const sorted = latencies.sort((a, b) => a - b);
  return {
    requests: latencies.length,
    requestsPerSecond: latencies.length / ((lastAnswerAt - startedAt) / 1000),
    p50Ms: percentile(sorted, 50),
    p99Ms: percentile(sorted, 99),
    maxMs: sorted.at(-1) ?? Number.NaN,
    statuses,
    errors,
  };
}
