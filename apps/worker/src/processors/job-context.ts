/** What a processor may do with its BullMQ job, without depending on BullMQ. */
export interface JobContext {
  id: string;
  /** Milliseconds since the epoch when the job was added (queue wait metric). */
  enqueuedAt: number;
  log(line: string): Promise<unknown>;
  updateProgress(progress: object | number): Promise<unknown>;
}
