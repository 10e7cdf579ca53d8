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
  /** PEM of the CA that signed a `rediss://` Redis's certificate (`REDIS_TLS_CA_FILE`). */
  tlsCa?: string;
  /** Reach the master through these Sentinels (`REDIS_SENTINELS`); the URL's host is then unused. */
  sentinel?: RedisSentinelOptions;
}

/** A Sentinel group: where its Sentinels are and the name of the master they watch. */
export interface RedisSentinelOptions {
  sentinels: { host: string; port: number }[];
  /** The master group name (`REDIS_SENTINEL_MASTER`). */
  name: string;
  /** The Sentinels' own password (`REDIS_SENTINEL_PASSWORD`). */
  password?: string;
  /**
   * Speak TLS to the Sentinels and to the master they name (a `rediss://` `REDIS_URL`), both
   * checked against the connection's `tlsCa` when one is given.
   */
  tls?: boolean;
}

/**
 * The TLS options for a Redis whose certificate a private CA signed; `{}` otherwise, where a
 * `rediss://` URL checks the certificate against Node's own CAs.
 */
function redisTlsOptions(tlsCa: string | undefined): RedisOptions {
  return tlsCa ? { tls: { ca: tlsCa } } : {};
}

/**
 * The ioredis options of where Redis is and how to trust it (TLS CA, Sentinel group), for
 * BullMQ's own connections: `new Worker(…, { connection: { url, ...redisTargetOptions(t) } })`.
 */
export function redisTargetOptions(target: {
  tlsCa?: string;
  sentinel?: RedisSentinelOptions;
}): RedisOptions {
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
 * Open an ioredis connection to `url` (or to the master `opts.sentinel` names) configured for
 * BullMQ. It reconnects by itself forever (capped back-off), so a process recovers without
 * restarting when Redis returns or a Sentinel promotes a new master.
 */
export function createRedisConnection(url: string, opts: CreateRedisConnectionOptions): Redis {
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
  const redis = new Redis(url, { ...common, ...roleOptions, ...redisTargetOptions(opts) });
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
