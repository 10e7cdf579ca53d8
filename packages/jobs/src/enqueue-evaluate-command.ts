import { jobCatalog, jobOptionsOf } from './job-catalog.ts';
import type { JobProducer, RedisConnection } from './job-producer.ts';
import type { EvaluateCommandJob } from './payloads.ts';

export type EnqueueCommandResult = { status: 'queued' | 'duplicate'; jobId: string };

/**
 * Enqueue an `/evaluate` command (`jobCatalog.command`). Its job id comes from
 * the delivery id, so the same delivery never makes two commands.
 */
export async function enqueueEvaluateCommand(
  producer: JobProducer<RedisConnection>,
  job: EvaluateCommandJob,
): Promise<EnqueueCommandResult> {
  const { command } = jobCatalog;
  const data = command.parse(job);
  // BullMQ refuses ':' in custom ids; GitHub's delivery ids are GUIDs, this guards replays of others.
  const jobId = `command-${data.request.deliveryId.replace(/:/g, '-')}`;
  const queue = producer.queues[command.queue];
  if (await queue.getJob(jobId)) return { status: 'duplicate', jobId };
  await queue.add(command.nameOf(data), data, jobOptionsOf('command', { jobId }));
  return { status: 'queued', jobId };
}
