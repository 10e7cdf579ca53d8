import { EVALUATE_QUEUE } from '@evalbot/jobs';
import type { Redis } from 'ioredis';

/**
 * The evaluate queues of worker pools (`evalbot-evaluate-<pool>`) that exist in Redis: a pool's
 * queue appears once the first side is sent to it, and the dashboard cannot know the pools
 * operators start workers for. BullMQ writes a queue's `meta` hash with its first job.
 */
export async function poolQueueNames(connection: Redis, prefix: string): Promise<string[]> {
  const pattern = `${prefix}:${EVALUATE_QUEUE}-*:meta`;
  const names = new Set<string>();
  let cursor = '0';
  do {
    const [next, keys] = await connection.scan(cursor, 'MATCH', pattern, 'COUNT', 1000);
    cursor = next;
    for (const key of keys) {
      const name = key.slice(prefix.length + 1, -':meta'.length);
      // A pool name: lower-case letters, digits and "-" (repo-config's POOL_NAME).
      if (/^[a-z0-9][a-z0-9-]{0,31}$/.test(name.slice(EVALUATE_QUEUE.length + 1))) names.add(name);
    }
  } while (cursor !== '0');
  return [...names].sort();
}
