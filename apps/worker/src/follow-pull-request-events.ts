import { pullRequestEventSchema, redisKeys } from '@evalbot/jobs';
import type { Logger } from '@evalbot/logger';
import type { Redis } from 'ioredis';
import type { RunningEvaluations } from './running-evaluations.ts';

/**
 * Stop at once the training of evaluations a PR no longer wants: the router publishes each new
 * head, `closed` and `unlabeled` on `<prefix>:pr-events`, and `subscriber` (a connection of its
 * own, in subscriber mode from here on) hears them.
 */
export async function followPullRequestEvents(
  subscriber: Redis,
  opts: { prefix: string; running: RunningEvaluations; logger: Logger },
): Promise<void> {
  const { running, logger } = opts;
  const channel = redisKeys.pullRequestEvents(opts.prefix);
  subscriber.on('message', (received: string, message: string) => {
    if (received !== channel) return;
    try {
      const event = pullRequestEventSchema.parse(JSON.parse(message));
      const stopped = running.applyPullRequestState(event.prKey, event.headSha, event.reason);
      if (stopped > 0) logger.info({ ...event, stopped }, 'stopped evaluations the PR no longer wants');
    } catch (error) {
      logger.warn({ err: error }, 'ignored a malformed PR event');
    }
  });
  await subscriber.subscribe(channel);
}
