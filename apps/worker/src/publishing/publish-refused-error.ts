import { UnrecoverableError } from 'bullmq';
import type { Refusal } from './publish-output.ts';

/**
 * GitHub refused an output for good (a missing permission, a deleted repository): trying again
 * cannot help, so the job fails at once (BullMQ does not retry an `UnrecoverableError`). The
 * author was told through the outputs that still worked, if any.
 */
export class PublishRefusedError extends UnrecoverableError {
  readonly code = 'EVALBOT_PUBLISH_REFUSED';
  constructor(
    readonly refusals: readonly Refusal[],
    told: readonly string[],
  ) {
    const what = refusals
      .map((r) => `the ${r.channel} (${r.error.status ?? '?'}: ${r.error.message})`)
      .join(' and ');
    super(
      `GitHub refused ${what}; not retried. ${
        told.length > 0
          ? `The author was told through the ${told.join(' and ')}.`
          : 'Nothing could be shown on the PR: check the App installation and its permissions.'
      }`,
    );
    this.name = 'PublishRefusedError';
  }
}
