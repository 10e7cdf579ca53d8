import { redisKeys, type SideSuccess, sideSuccessSchema } from '@evalbot/jobs';
import type { Redis } from 'ioredis';

/**
 * Successful base results by (repository, commit). The commit fixes the code and its
 * `.evalbot.yml`, and the model is seeded, so the same base need not be trained twice.
 */
export class BaseResultCache {
  constructor(
    private readonly redis: Redis,
    private readonly prefix: string,
    private readonly ttlSeconds: number,
  ) {}

  private key(repoFullName: string, sha: string): string {
    return redisKeys.baseResult(this.prefix, repoFullName, sha);
  }

  async get(repoFullName: string, sha: string): Promise<SideSuccess | undefined> {
    if (this.ttlSeconds === 0) return undefined;
    const raw = await this.redis.get(this.key(repoFullName, sha));
    if (!raw) return undefined;
    const parsed = sideSuccessSchema.safeParse(JSON.parse(raw));
    return parsed.success ? parsed.data : undefined;
  }

  async set(repoFullName: string, outcome: SideSuccess): Promise<void> {
    if (this.ttlSeconds === 0) return;
    const stored: SideSuccess = { ...outcome, resultReused: false };
    await this.redis.set(this.key(repoFullName, outcome.sha), JSON.stringify(stored), 'EX', this.ttlSeconds);
  }
}
