/**
 * The states a queue's jobs are counted in (`queue.getJobCounts(...JOB_STATES)`) for the
 * `evalbot_queue_jobs` gauge, which the gateway and the dashboard both export.
 */
export const JOB_STATES = [
  'waiting',
  'active',
  'delayed',
  'prioritized',
  'waiting-children',
  'completed',
  'failed',
] as const;
export type JobState = (typeof JOB_STATES)[number];
