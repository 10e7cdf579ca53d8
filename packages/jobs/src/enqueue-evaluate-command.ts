import { jobOf } from './job-catalog.ts';
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
  // BullMQ refuses ':' in custom ids; GitHub's delivery ids are GUIDs, this guards replays of others.
  const jobId = `command-${job.request.deliveryId.replace(/:/g, '-')}`;
  const command = jobOf('command', job, { jobId });
  const queue = producer.queues[command.queueName];
  if (await queue.getJob(jobId)) return { status: 'duplicate', jobId };
  await queue.add(command.name, command.data, command.opts);
  return { status: 'queued', jobId };
}
