/**
 * The evaluation could not be done for a reason that is not the PR's fault (the git server
 * unreachable or answering 5xx, credentials refused, a clone that did not finish in time).
 * Thrown, not returned, so the job is retried when `retryable`.
 */
export class InfrastructureError extends Error {
  readonly code = 'EVALBOT_INFRASTRUCTURE';
  constructor(
    message: string,
    readonly retryable: boolean,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'InfrastructureError';
  }
}
