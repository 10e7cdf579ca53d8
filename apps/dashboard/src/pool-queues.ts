import { poolOfQueue, poolQueueOf } from '@evalbot/jobs';
import type { Redis } from 'ioredis';

/**
 * The evaluate queues of worker pools (`evalbot-evaluate-<pool>`) that exist in Redis: a pool's
 * queue appears once the first side is sent to it, and the dashboard cannot know the pools
 * operators start workers for. BullMQ writes a queue's `meta` hash with its first job.
 */
export async function poolQueueNames(connection: Redis, prefix: string): Promise<string[]> {
  const pattern = `${prefix}:${poolQueueOf('*')}:meta`;
  const names = new Set<string>();
  let cursor = '0';
  do {
    const [next, keys] = await connection.scan(cursor, 'MATCH', pattern, 'COUNT', 1000);
    cursor = next;
    for (const key of keys) {
      const name = key.slice(prefix.length + 1, -':meta'.length);
      if (poolOfQueue(name) !== undefined) names.add(name);
    }
  } while (cursor !== '0');
  return [...names].sort();
}
