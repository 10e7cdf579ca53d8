import type { ResultStore } from '@evalbot/evaluator';
import { redisKeys, type SideSuccess, sideSuccessSchema } from '@evalbot/jobs';
import type { Redis } from 'ioredis';

/**
 * Successful results by result key (what was evaluated: files after `ignore:`, requirements,
 * effective config, side, interpreter, evaluation version — see the evaluator's content-key.ts),
 * and each commit's result key, so a commit evaluated before needs no clone. Only the worker
 * writes here, with keys it computed from the fetched objects: a PR can only produce a result
 * for the content it really has. Failed runs are never stored.
 */
export class ResultCache implements ResultStore {
  constructor(
    private readonly redis: Redis,
    private readonly prefix: string,
    private readonly ttlSeconds: number,
    private readonly shareGroups: readonly (readonly string[])[] = [],
  ) {}

  /**
   * Whose results a repository may reuse: its own, or its group's when the operator listed it
   * in EVALBOT_SHARE_RESULTS (a fork and its parent, a monorepo's mirrors).
   */
  scopeOf(repoFullName: string): string {
    const repo = repoFullName.toLowerCase();
    const group = this.shareGroups.find((g) => g.includes(repo));
    return group ? `group:${[...group].sort().join(',')}` : `repo:${repo}`;
  }

  async keyOfCommit(commitKey: string): Promise<string | undefined> {
    if (this.ttlSeconds === 0) return undefined;
    return (await this.redis.get(redisKeys.resultKeyOfCommit(this.prefix, commitKey))) ?? undefined;
  }

  async rememberCommit(commitKey: string, resultKey: string): Promise<void> {
    if (this.ttlSeconds === 0) return;
    await this.redis.set(
      redisKeys.resultKeyOfCommit(this.prefix, commitKey),
      resultKey,
      'EX',
      this.ttlSeconds,
    );
  }

  async get(resultKey: string): Promise<SideSuccess | undefined> {
    if (this.ttlSeconds === 0) return undefined;
    const raw = await this.redis.get(redisKeys.result(this.prefix, resultKey));
    if (!raw) return undefined;
    const parsed = sideSuccessSchema.safeParse(JSON.parse(raw));
    return parsed.success ? parsed.data : undefined;
  }

  async put(resultKey: string, outcome: SideSuccess): Promise<void> {
    if (this.ttlSeconds === 0) return;
    const { resultReusedFrom: _, ...stored } = { ...outcome, resultReused: false };
    await this.redis.set(
      redisKeys.result(this.prefix, resultKey),
      JSON.stringify(stored),
      'EX',
      this.ttlSeconds,
    );
  }
}
