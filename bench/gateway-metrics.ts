/**
 * What the gateway's own metrics (its internal port, `collectDefaultMetrics`) say about a run:
 * event-loop delay percentiles (prom-client's `monitorEventLoopDelay`, reset on every scrape,
 * so a scrape before the run and one after it give the run's own figures) and garbage
 * collection pauses by kind (cumulative; the difference of two scrapes).
 */
export interface GatewayRunMetrics {
  /** Event-loop delay over the run, milliseconds beyond the monitor's 10 ms timer. */
  loopDelayMs: { p50: number; p90: number; p99: number; max: number };
  /** GC pauses over the run, by kind (`minor` = scavenge, `major`, `incremental`, `weakcb`). */
  gc: Record<string, { count: number; totalMs: number }>;
}

const PREFIX = 'evalbot_gateway_';
/**
 * prom-client's `eventLoopMonitoringPrecision` (its default): the histogram records the time
 * between two ticks of a timer of this period, so the delay is what exceeds it.
 */
const LOOP_TIMER_MS = 10;

function parse(text: string): Map<string, number> {
  const values = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (line.startsWith('#') || line.trim() === '') continue;
    const space = line.lastIndexOf(' ');
    values.set(line.slice(0, space), Number(line.slice(space + 1)));
  }
  return values;
}

async function scrape(metricsUrl: string): Promise<Map<string, number>> {
  const response = await fetch(metricsUrl);
  if (!response.ok) throw new Error(`${metricsUrl} answered ${response.status}`);
  return parse(await response.text());
}

const GC_KINDS = ['minor', 'major', 'incremental', 'weakcb'] as const;

/** Scrape now (which resets the delay histogram); `finish()` scrapes again and gives the run's figures. */
export async function watchGatewayMetrics(
  metricsUrl: string,
): Promise<{ finish: () => Promise<GatewayRunMetrics> }> {
  const before = await scrape(metricsUrl);
  return {
    finish: async () => {
      const after = await scrape(metricsUrl);
      const get = (map: Map<string, number>, name: string) => map.get(`${PREFIX}${name}`) ?? Number.NaN;
      const lag = (name: string) =>
        Math.max(0, get(after, `nodejs_eventloop_lag_${name}_seconds`) * 1000 - LOOP_TIMER_MS);
      const gc: GatewayRunMetrics['gc'] = {};
      for (const kind of GC_KINDS) {
        const series = (suffix: string) => `nodejs_gc_duration_seconds_${suffix}{kind="${kind}"}`;
        const count = (get(after, series('count')) || 0) - (get(before, series('count')) || 0);
        const seconds = (get(after, series('sum')) || 0) - (get(before, series('sum')) || 0);
        if (count > 0) gc[kind] = { count, totalMs: seconds * 1000 };
      }
      return { loopDelayMs: { p50: lag('p50'), p90: lag('p90'), p99: lag('p99'), max: lag('max') }, gc };
    },
  };
}

/** `p50 1.2 / p90 3.4 / p99 9.9 / max 12 ms` */
export function loopDelayText(m: GatewayRunMetrics): string {
  const { p50, p90, p99, max } = m.loopDelayMs;
  return `p50 ${p50.toFixed(2)} / p90 ${p90.toFixed(2)} / p99 ${p99.toFixed(2)} / max ${max.toFixed(1)} ms`;
}

/** `minor ×120 (85 ms), major ×2 (9 ms)` */
export function gcText(m: GatewayRunMetrics): string {
  const parts = Object.entries(m.gc).map(
    ([kind, { count, totalMs }]) => `${kind} ×${count} (${totalMs.toFixed(0)} ms)`,
  );
  return parts.join(', ') || 'none';
}
