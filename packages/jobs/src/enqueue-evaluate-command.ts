import { COMMAND_JOB_OPTIONS } from './job-options.ts';
import type { JobProducer, RedisConnection } from './job-producer.ts';
import { type EvaluateCommandJob, evaluateCommandJobSchema } from './payloads.ts';
import { COMMAND_QUEUE } from './queue-names.ts';

export type EnqueueCommandResult = { status: 'queued' | 'duplicate'; jobId: string };

/**
 * Enqueue an `/evaluate` command (see {@link evaluateCommandJobSchema}). Its job id comes from
 * the delivery id, so the same delivery never makes two commands.
 */
export async function enqueueEvaluateCommand(
  producer: JobProducer<RedisConnection>,
  job: EvaluateCommandJob,
): Promise<EnqueueCommandResult> {
  const data = evaluateCommandJobSchema.parse(job);
  // BullMQ refuses ':' in custom ids; GitHub's delivery ids are GUIDs, this guards replays of others.
  const jobId = `command-${data.request.deliveryId.replace(/:/g, '-')}`;
  const queue = producer.queues[COMMAND_QUEUE];
  if (await queue.getJob(jobId)) return { status: 'duplicate', jobId };
  await queue.add('evaluate-command', data, { ...COMMAND_JOB_OPTIONS, jobId });
  return { status: 'queued', jobId };
}
