import type { GitHubClient } from '@evalbot/github';
import { DELIVERY_QUEUE, deliveryJobIdOf, type JobProducer, redisKeys } from '@evalbot/jobs';
import type { Logger } from '@evalbot/logger';
import type { RecoveryOutcome } from './worker-metrics.ts';

/** GitHub keeps an App's deliveries (and redelivers them) for 3 days. */
export const DELIVERY_RETENTION_MS = 3 * 24 * 3600_000;
/** Bound on one pass: 10 pages of 100 deliveries. */
const MAX_PAGES = 10;
/**
 * Redeliveries asked for one guid at most. A redelivery that fails too (the gateway is still
 * down at the next pass) is asked again, once its answer is in, up to this bound.
 */
export const MAX_REDELIVERY_ASKS = 3;

/** What the recovery job remembers of a guid it asked GitHub to redeliver. */
interface AskState {
  asks: number;
  /** The newest attempt when last asked: a newer one is that redelivery's answer. */
  lastAttemptId: number;
}

/** One delivery as `GET /app/hook/deliveries` lists it (the fields used here). */
interface ListedDelivery {
  id: number;
  guid: string;
  delivered_at: string;
  redelivery: boolean;
  status: string;
  status_code: number;
  event: string;
  action?: string | null;
}

export interface RecoveryReport {
  /** Delivery attempts listed by GitHub within the retention window. */
  listed: number;
  /** Guids none of whose attempts was answered 2xx, the latest failing with no answer or a 5xx. */
  failed: number;
  /** Failed at GitHub, but found in the delivery log (e.g. answered after GitHub gave up). */
  recorded: string[];
  /** Asked by an earlier pass, whose redelivery has not been attempted yet: not asked again. */
  alreadyAsked: string[];
  /** Asked {@link MAX_REDELIVERY_ASKS} times, failed every time: left to the operator. */
  gaveUp: string[];
  /** Asked to be redelivered now. */
  redelivered: string[];
  /** GitHub refused the redelivery (the message says why). */
  errors: { guid: string; message: string }[];
}

export interface RecoverDeliveriesDeps {
  /** The App's own client (JWT): the delivery log is the App's, not an installation's. */
  appOctokit: GitHubClient;
  producer: JobProducer;
  logger: Logger;
  now?: () => number;
  onOutcome?: (outcome: RecoveryOutcome, count: number) => void;
}

async function isRecorded(producer: JobProducer, guid: string): Promise<boolean> {
  if (await producer.queues[DELIVERY_QUEUE].getJob(deliveryJobIdOf(guid))) return true;
  return (await producer.connection.exists(redisKeys.delivery(producer.prefix, guid))) === 1;
}

/**
 * The recovery job: GitHub does not retry a delivery its receiver failed to take (gateway down,
 * Redis down: 503), so list the App's recent deliveries, find every guid with no successful
 * attempt that the delivery log never recorded, and ask GitHub to redeliver its latest attempt.
 * A guid is asked for again only once its redelivery was attempted and failed too (the outage
 * outlasted one interval), at most {@link MAX_REDELIVERY_ASKS} times; never once it succeeded or
 * was recorded. What was asked lives in Redis beyond GitHub's retention.
 */
export async function recoverMissedDeliveries(deps: RecoverDeliveriesDeps): Promise<RecoveryReport> {
  const now = deps.now ?? Date.now;
  const since = now() - DELIVERY_RETENTION_MS;
  const attempts: ListedDelivery[] = [];
  let pages = 0;
  // Octokit follows the `Link: rel="next"` header (a `cursor` on this endpoint).
  for await (const response of deps.appOctokit.paginate.iterator('GET /app/hook/deliveries', {
    per_page: 100,
  })) {
    const listed = response.data as ListedDelivery[];
    const recent = listed.filter((d) => Date.parse(d.delivered_at) >= since);
    attempts.push(...recent);
    pages += 1;
    // Newest first: once a page reaches past the window, so does everything after it.
    if (recent.length < listed.length || pages >= MAX_PAGES) break;
  }

  const byGuid = new Map<string, ListedDelivery[]>();
  for (const attempt of attempts) {
    const list = byGuid.get(attempt.guid) ?? [];
    list.push(attempt);
    byGuid.set(attempt.guid, list);
  }
  const report: RecoveryReport = {
    listed: attempts.length,
    failed: 0,
    recorded: [],
    alreadyAsked: [],
    gaveUp: [],
    redelivered: [],
    errors: [],
  };
  const { connection, prefix } = deps.producer;
  for (const [guid, list] of byGuid) {
    if (list.some((a) => a.status_code >= 200 && a.status_code < 300)) continue;
    const latest = list.reduce((a, b) => (b.id > a.id ? b : a));
    // A 4xx (bad signature, not a payload) would be refused again; only outages are retried.
    if (latest.status_code !== 0 && latest.status_code < 500) continue;
    report.failed += 1;
    if (await isRecorded(deps.producer, guid)) {
      report.recorded.push(guid);
      continue;
    }
    // Passes of the job scheduler do not overlap, so a read-then-write here is not raced.
    const askKey = redisKeys.redeliveryAsked(prefix, guid);
    const stored = await connection.get(askKey);
    const asked: AskState = stored ? (JSON.parse(stored) as AskState) : { asks: 0, lastAttemptId: 0 };
    if (asked.asks > 0 && latest.id <= asked.lastAttemptId) {
      report.alreadyAsked.push(guid);
      continue;
    }
    if (asked.asks >= MAX_REDELIVERY_ASKS) {
      report.gaveUp.push(guid);
      continue;
    }
    // Written before asking: a pass that dies after the POST never asks for the same attempt again.
    const next: AskState = { asks: asked.asks + 1, lastAttemptId: latest.id };
    await connection.set(askKey, JSON.stringify(next), 'PX', 2 * DELIVERY_RETENTION_MS);
    try {
      await deps.appOctokit.request('POST /app/hook/deliveries/{delivery_id}/attempts', {
        delivery_id: latest.id,
      });
      report.redelivered.push(guid);
      deps.logger.info(
        { guid, deliveryId: latest.id, event: latest.event, status: latest.status, ask: next.asks },
        'asked GitHub to redeliver a delivery the gateway could not take',
      );
    } catch (error) {
      report.errors.push({ guid, message: (error as Error).message });
      deps.logger.warn({ guid, err: error }, 'GitHub refused to redeliver a failed delivery');
    }
  }
  deps.onOutcome?.('redelivered', report.redelivered.length);
  deps.onOutcome?.('recorded', report.recorded.length);
  deps.onOutcome?.('already_asked', report.alreadyAsked.length);
  deps.onOutcome?.('gave_up', report.gaveUp.length);
  if (report.gaveUp.length > 0) {
    deps.logger.warn(
      { guids: report.gaveUp },
      `deliveries still failing after ${MAX_REDELIVERY_ASKS} redeliveries; redeliver them from the App's settings once the gateway takes deliveries`,
    );
  }
  deps.onOutcome?.('error', report.errors.length);
  return report;
}
