import { redisKeys } from '@evalbot/jobs';
import type { Redis } from 'ioredis';

/** How often a worker says it serves its pools, and how long one that stopped saying so still counts. */
export const POOL_HEARTBEAT_MS = 10_000;
export const POOL_PRESENCE_TTL_MS = 3 * POOL_HEARTBEAT_MS;

// Scored by Redis's clock, not the hosts': workers on many hosts need no synchronised clocks.
const BEAT = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
redis.call('ZADD', KEYS[1], now, ARGV[1])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - tonumber(ARGV[2]))
redis.call('PEXPIRE', KEYS[1], 2 * tonumber(ARGV[2]))
return now
`;
const COUNT = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
return redis.call('ZCOUNT', KEYS[1], now - tonumber(ARGV[1]), '+inf')
`;

/**
 * Which pools have a live worker: each worker records a heartbeat per pool it serves
 * (`<prefix>:pool:<name>:workers`), and drops it when it stops. A side sent to a pool with
 * none is reported on the PR after the configured wait instead of queueing forever.
 */
export class PoolPresence {
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly redis: Redis,
    private readonly prefix: string,
    private readonly onError: (error: unknown) => void = () => {},
  ) {}

  /** Start announcing `workerId` in `pools` (at once, then every {@link POOL_HEARTBEAT_MS}). */
  async announce(workerId: string, pools: readonly string[]): Promise<void> {
    const beat = () =>
      Promise.all(
        pools.map((pool) =>
          this.redis.eval(BEAT, 1, redisKeys.poolWorkers(this.prefix, pool), workerId, POOL_PRESENCE_TTL_MS),
        ),
      );
    await beat();
    this.timer = setInterval(() => beat().catch(this.onError), POOL_HEARTBEAT_MS);
    this.timer.unref();
    this.stop = async () => {
      clearInterval(this.timer);
      await Promise.all(
        pools.map((pool) => this.redis.zrem(redisKeys.poolWorkers(this.prefix, pool), workerId)),
      );
    };
  }

  /** Stop announcing; the pools no longer count this worker. */
  stop: () => Promise<void> = async () => {};

  /** How many workers announced themselves in `pool` within {@link POOL_PRESENCE_TTL_MS}. */
  async workersIn(pool: string): Promise<number> {
    return Number(
      await this.redis.eval(COUNT, 1, redisKeys.poolWorkers(this.prefix, pool), POOL_PRESENCE_TTL_MS),
    );
  }
}
