import { Job } from 'bullmq';
import { jobCatalog } from './job-catalog.ts';
import type { JobProducer, RedisConnection } from './job-producer.ts';
import { redisKeys } from './redis-keys.ts';

export interface RemovedEvaluations {
  /** Compare-job ids removed with their children (nothing of them had started). */
  removed: string[];
  /**
   * Compare-job ids with a child or the compare itself running: their waiting parts were
   * removed; the running part stops when its worker hears the PR event.
   */
  running: string[];
}

// Drop the deduplication pointer only if it still names this job.
const RELEASE_POINTER_SCRIPT = `
local v = redis.call('GET', KEYS[1])
if v and string.sub(v, 1, string.len(ARGV[1]) + 1) == ARGV[1] .. '|' then redis.call('DEL', KEYS[1]) end
return 0
`;

/** Forget the deduplication reservation of `jobId` for `evaluationKey` (compare-and-delete). */
export async function releaseEvaluationKey(
  producer: Pick<JobProducer<RedisConnection>, 'connection' | 'prefix'>,
  evaluationKey: string,
  jobId: string,
): Promise<void> {
  await producer.connection.eval(
    RELEASE_POINTER_SCRIPT,
    1,
    redisKeys.evaluation(producer.prefix, evaluationKey),
    jobId,
  );
}

/**
 * Remove the work of a PR's evaluations that has not started (`jobIds`, else every one in the
 * PR's index): whole flows when nothing of them runs, else their waiting children. Finished
 * evaluations are left alone (their results are history) and dropped from the PR's index.
 */
export async function removePendingEvaluations(
  producer: JobProducer<RedisConnection>,
  opts: { prKey: string; jobIds?: string[] },
): Promise<RemovedEvaluations> {
  const { connection, prefix } = producer;
  const queue = producer.queues[jobCatalog.compare.queue];
  const indexKey = redisKeys.pullRequestJobs(prefix, opts.prKey);
  const result: RemovedEvaluations = { removed: [], running: [] };
  for (const id of opts.jobIds ?? (await connection.smembers(indexKey))) {
    const job = await Job.fromId(queue, id);
    const state = job ? await job.getState() : 'unknown';
    if (!job || state === 'completed' || state === 'failed' || state === 'unknown') {
      await connection.srem(indexKey, id);
      continue;
    }
    const parsed = jobCatalog.compare.safeParse(job.data);
    try {
      await job.remove({ removeChildren: true });
      result.removed.push(id);
      await connection.srem(indexKey, id);
    } catch {
      // Something of it is active (locked): BullMQ refuses to remove a running job.
      await job.removeUnprocessedChildren();
      result.running.push(id);
    }
    // The same head may be asked for again (reopened, label re-added) before the running part ends.
    if (parsed.success) await releaseEvaluationKey(producer, parsed.data.evaluationKey, id);
  }
  return result;
}
