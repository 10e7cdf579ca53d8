import {
  cancelPullRequest,
  enqueueEvaluateCommand,
  enqueueEvaluation,
  type JobProducer,
  redisKeys,
} from '@evalbot/jobs';
import type { Decision } from './route-delivery.ts';

/** How long a delivery id is remembered: GitHub's redelivery window is shorter. */
export const DELIVERY_TTL_SECONDS = 7 * 24 * 3600;

/** The HTTP answer to a delivery: status code, JSON body, and the outcome label for metrics. */
export interface DeliveryAnswer {
  statusCode: number;
  body: Record<string, unknown>;
  outcome: string;
}

/** Redis did not answer in time or is disconnected: the delivery must be redelivered. */
export class RedisUnavailableError extends Error {
  readonly code = 'EVALBOT_REDIS_UNAVAILABLE';
  constructor(reason: string) {
    super(`Redis is unavailable (${reason}); nothing was enqueued, redeliver this delivery later`);
    this.name = 'RedisUnavailableError';
  }
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

type Work = Extract<Decision, { kind: 'evaluate' | 'command' | 'cancel' }>;

async function perform(producer: JobProducer, decision: Work, signal: AbortSignal): Promise<DeliveryAnswer> {
  switch (decision.kind) {
    case 'evaluate': {
      const result = await enqueueEvaluation(producer, {
        pr: decision.pr,
        request: decision.request,
        signal,
      });
      if (result.status === 'queued') {
        const { jobId, evaluationKey, superseded } = result;
        return {
          statusCode: 202,
          outcome: 'queued',
          body: { status: 'queued', jobId, evaluationKey, superseded },
        };
      }
      if (result.status === 'duplicate') {
        return {
          statusCode: 200,
          outcome: 'duplicate',
          body: {
            status: 'duplicate',
            jobId: result.jobId,
            evaluationKey: result.evaluationKey,
            reason: 'this head and base are already queued or running',
          },
        };
      }
      return {
        statusCode: 202,
        outcome: 'stale',
        body: {
          status: 'ignored',
          reason: `a newer event of this pull request was already handled (its head is now ${result.currentHead})`,
        },
      };
    }
    case 'command': {
      const result = await enqueueEvaluateCommand(producer, decision.job);
      return result.status === 'queued'
        ? {
            statusCode: 202,
            outcome: 'queued',
            body: { status: 'queued', jobId: result.jobId, command: 'evaluate' },
          }
        : {
            statusCode: 200,
            outcome: 'duplicate',
            body: { status: 'duplicate', jobId: result.jobId, reason: 'this command was already queued' },
          };
    }
    case 'cancel': {
      const result = await cancelPullRequest(producer, {
        pr: decision.pr,
        reason: decision.reason,
        updatedAt: decision.updatedAt,
      });
      if (result.status === 'stale') {
        return {
          statusCode: 202,
          outcome: 'stale',
          body: { status: 'ignored', reason: 'a newer event of this pull request was already handled' },
        };
      }
      return {
        statusCode: 202,
        outcome: 'cancelled',
        body: { status: 'cancelled', removed: result.removed, running: result.running },
      };
    }
  }
}

/**
 * Carry out a delivery's work in Redis within `timeoutMs`: skip a delivery id already acted on,
 * do the work, then remember the id (only after success, so a delivery answered 503 can be
 * redelivered). Throws {@link RedisUnavailableError} when Redis is down or too slow.
 */
export async function actOnDelivery(
  producer: JobProducer,
  decision: Work,
  opts: { deliveryId: string; timeoutMs: number },
): Promise<DeliveryAnswer> {
  const { connection, prefix } = producer;
  if (connection.status !== 'ready') throw new RedisUnavailableError(`connection is ${connection.status}`);
  const controller = new AbortController();
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      controller.abort();
      reject(new RedisUnavailableError(`no answer within ${opts.timeoutMs} ms`));
    }, opts.timeoutMs);
  });
  const deliveryKey = redisKeys.delivery(prefix, opts.deliveryId);
  const work = async (): Promise<DeliveryAnswer> => {
    const seen = await connection.get(deliveryKey);
    if (seen !== null) {
      return {
        statusCode: 200,
        outcome: 'duplicate',
        body: {
          status: 'duplicate',
          deliveryId: opts.deliveryId,
          reason: 'this delivery was already handled',
          first: parseJson(seen),
        },
      };
    }
    const answer = await perform(producer, decision, controller.signal);
    controller.signal.throwIfAborted();
    await connection.set(deliveryKey, JSON.stringify(answer.body), 'EX', DELIVERY_TTL_SECONDS);
    return answer;
  };
  try {
    return await Promise.race([work(), deadline]);
  } catch (error) {
    if (error instanceof RedisUnavailableError) throw error;
    throw new RedisUnavailableError((error as Error).message);
  } finally {
    clearTimeout(timer);
  }
}
