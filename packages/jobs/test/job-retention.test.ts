import { Queue, QueueEvents, Worker } from 'bullmq';
import { describe, expect, it } from 'vitest';
import { EVALUATE_QUEUE, jobCatalog, jobOptionsOf } from '../src/index.ts';
import { useJobProducer } from './fixtures.ts';

const t = useJobProducer();
const DAY_MS = 24 * 3600_000;

/** Run `jobs` evaluate jobs with the catalog's options through a real worker; each fails if `fail`. */
async function runJobs(names: string[], fail = false): Promise<void> {
  const connection = { url: t.redisUrl, maxRetriesPerRequest: null };
  const queue = new Queue(EVALUATE_QUEUE, { connection, prefix: t.prefix });
  const events = new QueueEvents(EVALUATE_QUEUE, { connection, prefix: t.prefix });
  await events.waitUntilReady();
  let left = names.length;
  const done = new Promise<void>((resolve) => {
    const count = () => {
      left -= 1;
      if (left === 0) resolve();
    };
    events.on('completed', count);
    events.on('failed', count);
  });
  const worker = new Worker(
    EVALUATE_QUEUE,
    async () => {
      if (fail) throw new Error('clone failed: 502');
      return 'ok';
    },
    { connection, prefix: t.prefix, concurrency: 50 },
  );
  try {
    await queue.addBulk(
      names.map((jobId) => ({
        name: 'evaluate',
        data: {},
        opts: jobOptionsOf('evaluate', { attempts: 1, jobId }),
      })),
    );
    await done;
  } finally {
    await worker.close();
    await events.close();
    await queue.close();
  }
}

/** As if these finished jobs had finished `days` ago: BullMQ orders finished jobs by that time. */
async function age(state: 'completed' | 'failed', ids: string[], days: number): Promise<void> {
  const finishedOn = Date.now() - days * DAY_MS;
  for (const id of ids) await t.connection.zadd(`${t.prefix}:${EVALUATE_QUEUE}:${state}`, finishedOn, id);
}

const ids = (prefix: string, n: number) => Array.from({ length: n }, (_, i) => `${prefix}-${i}`);

describe('finished evaluate jobs', () => {
  it('keeps the latest 1,000 completed jobs', { timeout: 60_000 }, async () => {
    const { count } = jobCatalog.evaluate.jobOptions.removeOnComplete;
    await runJobs(ids('job', count + 5));
    const queue = t.producer.queues[EVALUATE_QUEUE];
    expect(await queue.getJobCounts('completed')).toEqual({ completed: count });
  });

  it('removes completed jobs after 7 days and failed ones after 30', async () => {
    await runJobs(ids('done', 3));
    await runJobs(ids('broken', 3), true);
    await age('completed', ['done-0', 'done-1'], 7.1);
    await age('failed', ['broken-0'], 29);
    await age('failed', ['broken-1'], 31);
    // Old jobs are removed when the next job of the same kind finishes.
    await runJobs(['done-next']);
    await runJobs(['broken-next'], true);
    const queue = t.producer.queues[EVALUATE_QUEUE];
    const left = async (state: 'completed' | 'failed') =>
      (await queue.getJobs([state], 0, -1)).map((job) => job.id).sort();
    expect(await left('completed')).toEqual(['done-2', 'done-next']);
    expect(await left('failed')).toEqual(['broken-0', 'broken-2', 'broken-next']);
    expect(await queue.getJob('done-0')).toBeUndefined();
  });
});
