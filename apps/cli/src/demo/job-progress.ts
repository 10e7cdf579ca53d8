import type { RedisTarget } from '@evalbot/config';
import { COMPARE_QUEUE, createRedisConnection, EVALUATE_QUEUE, sideOutcomeSchema } from '@evalbot/jobs';
import { shortSha } from '@evalbot/report';
import { type Job, Queue } from 'bullmq';
import { describeOutcome } from '../compare/describe-outcome.ts';
import type { Progress, ProgressTask } from '../progress.ts';

/** Follows the workers' jobs in Redis and shows each side's progress as a task. */
export interface JobProgress {
  /** Read the queues once and update the tasks. Resolves to the reason a compare job failed for good, if one did. */
  poll(): Promise<string | undefined>;
  close(): Promise<void>;
}

interface SideJobData {
  side?: string;
  sha?: string;
}

interface SideProgressData {
  stage?: string;
  message?: string;
  percent?: number;
}

/**
 * Watch the evaluate and compare queues of a local stack (its Redis and key prefix): a task per
 * evaluate job, updated from the progress the worker reports (`job.updateProgress`) and ended
 * with the side's metrics or failure. Read-only; a failed read is skipped (progress is a nicety).
 */
export function watchJobProgress(opts: {
  /** The stack's Redis: its URL, and its TLS CA and Sentinels when it has them. */
  redis: RedisTarget;
  prefix: string;
  progress: Progress;
}): JobProgress {
  const connection = createRedisConnection(opts.redis, { role: 'producer', connectionName: 'evalbot-demo' });
  const evaluate = new Queue(EVALUATE_QUEUE, { connection, prefix: opts.prefix });
  const compare = new Queue(COMPARE_QUEUE, { connection, prefix: opts.prefix });
  const tasks = new Map<string, { task: ProgressTask; done: boolean }>();

  const taskOf = (job: Job<SideJobData>) => {
    const id = job.id ?? '';
    let entry = tasks.get(id);
    if (!entry) {
      const label = `${job.data.side ?? 'side'} ${shortSha(job.data.sha ?? '')}`;
      entry = { task: opts.progress.task(label), done: false };
      tasks.set(id, entry);
    }
    return entry;
  };

  return {
    async poll() {
      try {
        const [active, completed, failed, failedCompares] = await Promise.all([
          evaluate.getJobs(['active', 'waiting', 'delayed', 'prioritized']),
          evaluate.getJobs(['completed']),
          evaluate.getJobs(['failed']),
          compare.getJobs(['failed']),
        ]);
        for (const job of active) {
          const entry = taskOf(job);
          const p = job.progress as SideProgressData | number;
          if (typeof p !== 'object' || !p?.message) continue;
          // During setup (pip) and training, the latest output line (e.g. Keras' epoch line) says more.
          const latest =
            (p.stage === 'setup' || p.stage === 'run') && job.id
              ? (await evaluate.getJobLogs(job.id, 0, 0, false)).logs[0]?.trim()
              : undefined;
          // Lines in brackets are the worker's own stage notes, already shown as the message.
          const output = latest && !latest.startsWith('[') ? ` · ${latest}` : '';
          entry.task.update(`${p.stage}: ${p.message}${output}`, p.percent);
        }
        for (const job of completed) {
          const entry = taskOf(job);
          if (entry.done) continue;
          entry.done = true;
          const outcome = sideOutcomeSchema.safeParse(job.returnvalue);
          if (!outcome.success) entry.task.succeed();
          else if (outcome.data.ok) entry.task.succeed(describeOutcome(outcome.data));
          else entry.task.fail(describeOutcome(outcome.data));
        }
        for (const job of failed) {
          const entry = taskOf(job);
          if (entry.done) continue;
          entry.done = true;
          entry.task.fail(job.failedReason);
        }
        return failedCompares[0]?.failedReason;
      } catch {
        return undefined;
      }
    },
    async close() {
      await evaluate.close();
      await compare.close();
      connection.disconnect();
    },
  };
}
