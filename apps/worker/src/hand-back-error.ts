/**
 * Thrown by a processor when the worker is shutting down (SIGTERM) mid-job: the wiring moves
 * the job back to the queue without spending an attempt, and another worker runs it.
 */
export class HandBackError extends Error {
  readonly code = 'EVALBOT_HAND_BACK';
  constructor() {
    super('worker shutting down: job handed back to the queue');
    this.name = 'HandBackError';
  }
}
