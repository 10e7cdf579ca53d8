import { type DeliveryJob, deliveryJobIdOf, type JobProducer, jobCatalog, jobOptionsOf } from '@evalbot/jobs';
import type { Redis } from 'ioredis';

/** Redis did not answer in time or is disconnected: the delivery must be redelivered. */
export class RedisUnavailableError extends Error {
  readonly code = 'EVALBOT_REDIS_UNAVAILABLE';
  constructor(reason: string) {
    super(`Redis is unavailable (${reason}); nothing was recorded, redeliver this delivery later`);
    this.name = 'RedisUnavailableError';
  }
}

interface Pending {
  job: DeliveryJob;
  resolve: () => void;
  reject: (error: Error) => void;
}

type Queue = JobProducer['queues'][(typeof jobCatalog)['delivery']['queue']];

export interface DeliveryRecorderOptions {
  /** The delivery log queue (`evalbot-delivery`). */
  queue: Queue;
  /** The queue's connection, checked before a delivery waits on it. */
  connection: Redis;
  /** Bound on one delivery's wait for Redis; past it, {@link RedisUnavailableError}. */
  timeoutMs: number;
  /** Most deliveries written in one `addBulk` round trip. */
  maxBatch?: number;
}

/**
 * Writes deliveries to the delivery log in batches: every delivery that arrives while a write
 * is on its way to Redis joins the next `addBulk`, so a burst costs one round trip per batch
 * rather than one per delivery, and a lone delivery waits for no timer (the batch is sent on
 * the next turn of the event loop). At most two writes are in flight at once.
 */
export class DeliveryRecorder {
  private pending: Pending[] = [];
  private inFlight = 0;
  private scheduled = false;
  private readonly maxBatch: number;

  constructor(private readonly opts: DeliveryRecorderOptions) {
    this.maxBatch = opts.maxBatch ?? 256;
  }

  /** Resolves once the delivery is in Redis; a delivery id already there is not written again. */
  record(job: DeliveryJob): Promise<void> {
    const { status } = this.opts.connection;
    // Fail fast rather than queue behind a reconnect: GitHub waits 10 s at most.
    if (status !== 'ready') return Promise.reject(new RedisUnavailableError(`connection is ${status}`));
    return new Promise<void>((resolve, reject) => {
      let timer: NodeJS.Timeout | undefined;
      let settled = false;
      const settle = (error?: Error) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        if (error) reject(error);
        else resolve();
      };
      timer = setTimeout(
        () => settle(new RedisUnavailableError(`no answer within ${this.opts.timeoutMs} ms`)),
        this.opts.timeoutMs,
      );
      this.pending.push({ job, resolve: () => settle(), reject: (error) => settle(error) });
      this.schedule();
    });
  }

  private schedule(): void {
    if (this.scheduled || this.inFlight >= 2 || this.pending.length === 0) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      void this.flush();
    });
  }

  private async flush(): Promise<void> {
    const batch = this.pending.splice(0, this.maxBatch);
    if (batch.length === 0) return;
    this.inFlight += 1;
    try {
      await this.opts.queue.addBulk(
        // Not parsed again: each job's work was parsed by routeDelivery and its id checked with
        // its header, and one bad job must not fail its whole batch as if Redis were down.
        batch.map(({ job }) => ({
          name: jobCatalog.delivery.nameOf(job),
          data: job,
          opts: jobOptionsOf('delivery', { jobId: deliveryJobIdOf(job.deliveryId) }),
        })),
      );
      for (const item of batch) item.resolve();
    } catch (error) {
      const failure = new RedisUnavailableError((error as Error).message);
      for (const item of batch) item.reject(failure);
    } finally {
      this.inFlight -= 1;
      this.schedule();
    }
  }
}
