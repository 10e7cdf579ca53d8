/** What a processor may do with its BullMQ job, without depending on BullMQ. */
export interface JobContext {
  id: string;
  /** Milliseconds since the epoch when the job was added (queue wait metric). */
  enqueuedAt: number;
  /** A line from evalbot itself: to the job's log in Redis (a bounded tail) and on disk. */
  log(line: string): Promise<unknown>;
  /** A line of the PR's output picked for the live log: to Redis only (it is on disk already). */
  logLive(line: string): Promise<unknown>;
  /** Every line of the PR's output: to the worker's disk only. */
  logOutput(line: string): void;
  updateProgress(progress: object | number): Promise<unknown>;
}
