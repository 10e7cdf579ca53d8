import { cancelPullRequest } from './cancel-pull-request.ts';
import type { DeliveryJob, DeliveryWork } from './delivery-job.ts';
import { enqueueEvaluateCommand } from './enqueue-evaluate-command.ts';
import { enqueueEvaluation } from './enqueue-evaluation.ts';
import { jobCatalog } from './job-catalog.ts';
import type { JobProducer } from './job-producer.ts';
import { redisKeys } from './redis-keys.ts';

/** How long a routed delivery id is remembered: longer than GitHub keeps deliveries to redeliver (3 days). */
const DELIVERY_TTL_SECONDS = 7 * 24 * 3600;

/** What became of a recorded delivery: the delivery log's answer, shown on the dashboard. */
export type RoutedDelivery =
  | { status: 'queued'; jobId: string; evaluationKey: string; superseded: string[] }
  | { status: 'queued'; jobId: string; command: 'evaluate' }
  | { status: 'duplicate'; jobId: string; evaluationKey?: string; reason: string }
  | { status: 'duplicate'; deliveryId: string; reason: string; first: unknown }
  | { status: 'stale'; reason: string }
  | { status: 'cancelled'; removed: string[]; running: string[] };

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

async function perform(producer: JobProducer, work: DeliveryWork): Promise<RoutedDelivery> {
  switch (work.kind) {
    case 'evaluate': {
      const result = await enqueueEvaluation(producer, { pr: work.pr, request: work.request });
      if (result.status === 'queued') {
        const { jobId, evaluationKey, superseded } = result;
        return { status: 'queued', jobId, evaluationKey, superseded };
      }
      if (result.status === 'duplicate') {
        return {
          status: 'duplicate',
          jobId: result.jobId,
          evaluationKey: result.evaluationKey,
          reason: 'this head and base are already queued or running',
        };
      }
      return {
        status: 'stale',
        reason: `a newer event of this pull request was already handled (its head is now ${result.currentHead})`,
      };
    }
    case 'command': {
      const result = await enqueueEvaluateCommand(producer, work.job);
      return result.status === 'queued'
        ? { status: 'queued', jobId: result.jobId, command: 'evaluate' }
        : { status: 'duplicate', jobId: result.jobId, reason: 'this command was already queued' };
    }
    case 'cancel': {
      const result = await cancelPullRequest(producer, {
        pr: work.pr,
        reason: work.reason,
        updatedAt: work.updatedAt,
      });
      if (result.status === 'stale') {
        return { status: 'stale', reason: 'a newer event of this pull request was already handled' };
      }
      return { status: 'cancelled', removed: result.removed, running: result.running };
    }
  }
}

/**
 * The router: turn one recorded delivery into evaluation work — order it by `updated_at`
 * against the PR's state, cancel older heads, enqueue the evaluation flow or the `/evaluate`
 * command, or cancel the PR. A delivery id already routed (GitHub redelivered a delivery that
 * had in fact been recorded) is not acted on again; the id is remembered only after success, so
 * a retried job carries on where it failed.
 */
export async function routeRecordedDelivery(
  producer: JobProducer,
  data: DeliveryJob,
): Promise<RoutedDelivery> {
  const job = jobCatalog.delivery.parse(data);
  const deliveryKey = redisKeys.delivery(producer.prefix, job.deliveryId);
  const seen = await producer.connection.get(deliveryKey);
  if (seen !== null) {
    return {
      status: 'duplicate',
      deliveryId: job.deliveryId,
      reason: 'this delivery was already handled',
      first: parseJson(seen),
    };
  }
  const routed = await perform(producer, job.work);
  await producer.connection.set(deliveryKey, JSON.stringify(routed), 'EX', DELIVERY_TTL_SECONDS);
  return routed;
}
