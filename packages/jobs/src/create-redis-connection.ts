import type { RedisTarget } from '@evalbot/config';
import { Redis, type RedisOptions } from 'ioredis';

/** The part of a pino logger the connection reports to. */
export interface ConnectionLogger {
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
}

export interface CreateRedisConnectionOptions {
  /**
   * `worker`: for BullMQ Workers and QueueEvents — commands wait for Redis to come back
   * (`maxRetriesPerRequest: null`, as BullMQ requires for blocking connections).
   * `producer`: for a process that must answer quickly (the gateway) — a command fails at once
   * while Redis is disconnected (`enableOfflineQueue: false`) and after `commandTimeoutMs`
   * when Redis is slow, so the caller can answer 503 instead of hanging.
   */
  role: 'worker' | 'producer';
  /** Producer only: how long one command may take. Default 2000 ms. */
  commandTimeoutMs?: number;
  /** Shown by `CLIENT LIST`, e.g. `evalbot-gateway`. */
  connectionName?: string;
  /** Connection loss and recovery are logged once each, not once per reconnect attempt. */
  logger?: ConnectionLogger;
}

/**
 * The TLS options for a Redis whose certificate a private CA signed; `{}` otherwise, where a
 * `rediss://` URL checks the certificate against Node's own CAs.
 */
function redisTlsOptions(tlsCa: string | undefined): RedisOptions {
  return tlsCa ? { tls: { ca: tlsCa } } : {};
}

/**
 * The ioredis options of how to reach and trust `target` (TLS CA, Sentinel group), all but its
 * URL, for BullMQ's own connections:
 * `new Worker(…, { connection: { ...redisTargetOptions(t), url: t.url } })`.
 */
export function redisTargetOptions(target: RedisTarget): RedisOptions {
  const options: RedisOptions = {
    ...redisTlsOptions(target.tlsCa),
    // A master demoted to a replica (the old master rejoining after a failover, a managed
    // Redis switching behind one DNS name) keeps the connection open and answers every write
    // with READONLY: reconnect, which asks the Sentinels (or DNS) again, and resend the command.
    reconnectOnError: (error) => (/^READONLY\b/.test(error.message) ? 2 : false),
  };
  const sentinel = target.sentinel;
  if (!sentinel) return options;
  return {
    ...options,
    sentinels: sentinel.sentinels,
    name: sentinel.name,
    ...(sentinel.password ? { sentinelPassword: sentinel.password } : {}),
    // Left alone, ioredis reaches a Sentinel's master in the clear whatever the URL says.
    ...(sentinel.tls
      ? {
          enableTLSForSentinelMode: true,
          tls: target.tlsCa ? { ca: target.tlsCa } : {},
          sentinelTLS: target.tlsCa ? { ca: target.tlsCa } : {},
        }
      : {}),
    // Follow +switch-master on the Sentinels' pub/sub at once, rather than only when the old
    // master's connection breaks (it may hang, not close, when its host is lost).
    failoverDetector: true,
  };
}

/**
 * Open an ioredis connection to `target` (its URL, or the master its Sentinels name, trusting
 * its TLS CA) configured for BullMQ. It reconnects by itself forever (capped back-off), so a
 * process recovers without restarting when Redis returns or a Sentinel promotes a new master.
 */
export function createRedisConnection(target: RedisTarget, opts: CreateRedisConnectionOptions): Redis {
  const common: RedisOptions = {
    connectionName: opts.connectionName,
    retryStrategy: (times) => Math.min(times * 200, opts.role === 'producer' ? 1_000 : 5_000),
  };
  const roleOptions: RedisOptions =
    opts.role === 'worker'
      ? { maxRetriesPerRequest: null, enableOfflineQueue: true }
      : {
          enableOfflineQueue: false,
          maxRetriesPerRequest: 1,
          commandTimeout: opts.commandTimeoutMs ?? 2_000,
          connectTimeout: Math.max(opts.commandTimeoutMs ?? 2_000, 1_000),
        };
  const redis = new Redis(target.url, { ...common, ...roleOptions, ...redisTargetOptions(target) });
  let down = false;
  redis.on('error', (error: Error) => {
    if (down) return;
    down = true;
    opts.logger?.warn({ err: { message: error.message } }, 'Redis connection lost; reconnecting');
  });
  redis.on('ready', () => {
    if (down) opts.logger?.info({}, 'Redis connection restored');
    down = false;
  });
  return redis;
}

/**
 * Resolve once `redis` is connected (at once if it is), or reject after `timeoutMs`. A
 * producer connection refuses commands until then, so callers that must not fail on start-up
 * (tests, a worker's first enqueue) wait here first.
 */
export function waitForRedisReady(redis: Redis, timeoutMs = 10_000): Promise<void> {
  if (redis.status === 'ready') return Promise.resolve();
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      redis.off('ready', onReady);
      reject(new Error(`Redis was not ready within ${timeoutMs} ms (status ${redis.status})`));
    }, timeoutMs);
    const onReady = () => {
      clearTimeout(timer);
      resolve();
    };
    redis.once('ready', onReady);
  });
}
