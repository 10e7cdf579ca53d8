import { randomUUID } from 'node:crypto';
import { startRedis } from '@evalbot/local-stack';

/** The Redis that `scripts/test.sh` started (REDIS_URL), else a private one closed with the returned function. */
export async function sharedRedis(): Promise<{ url: string; close: () => Promise<void> }> {
  if (process.env.REDIS_URL) return { url: process.env.REDIS_URL, close: async () => {} };
  const server = await startRedis();
  return { url: server.url, close: server.close };
}

/** A unique BullMQ key prefix for one test, so tests never see each other's jobs. */
export function testPrefix(): string {
  return `test-${randomUUID()}`;
}
