import { JOB_LOG_LIMITS } from '@evalbot/jobs';
import type { Job } from 'bullmq';
import type { JobLogFile, JobLogFiles } from './job-log-files.ts';
import type { JobContext } from './processors/job-context.ts';

/** Lines longer than Redis keeps are cut, and say so. */
function cutForRedis(line: string): string {
  return line.length <= JOB_LOG_LIMITS.lineChars
    ? line
    : `${line.slice(0, JOB_LOG_LIMITS.lineChars)} … [cut; the whole line is in the worker's job log file]`;
}

/**
 * Run `process` with a {@link JobContext} of a BullMQ job: its log goes to Redis as a bounded
 * tail (the job's `keepLogs`, lines cut to `JOB_LOG_LIMITS.lineChars`) and, whole, to the job's
 * file on the worker's disk, closed when `process` ends.
 */
export async function withJobContext<T>(
  job: Job,
  files: JobLogFiles,
  process: (context: JobContext) => Promise<T>,
): Promise<T> {
  const id = job.id ?? 'unknown';
  const file: JobLogFile = await files.openJob(
    id,
    `[evalbot] ${job.queueName} job ${id}, attempt ${job.attemptsMade + 1}`,
  );
  const toRedis = (line: string) => job.log(cutForRedis(line));
  try {
    return await process({
      id,
      enqueuedAt: job.timestamp,
      log: (line) => {
        file.write(line);
        return toRedis(line);
      },
      logLive: toRedis,
      logOutput: (line) => file.write(line),
      updateProgress: (progress) => job.updateProgress(progress),
    });
  } finally {
    await file.close();
  }
}
