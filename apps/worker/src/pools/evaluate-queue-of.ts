import { EVALUATE_QUEUE, poolQueueOf } from '@evalbot/jobs';
import { DEFAULT_POOL } from '@evalbot/repo-config';

/** The evaluate queue of a worker pool: `evalbot-evaluate` for the default pool, `evalbot-evaluate-<pool>` else. */
export function evaluateQueueOf(pool: string): string {
  return pool === DEFAULT_POOL ? EVALUATE_QUEUE : poolQueueOf(pool);
}
