/**
 * Redis answered but will not serve this client as configured: a wrong password or user, an
 * ACL without the commands BullMQ needs, or a TLS certificate that cannot be trusted. Retrying
 * cannot fix it, so an app stops at start with this message instead of reconnecting forever.
 */
export class RedisAccessError extends Error {
  readonly code = 'EVALBOT_REDIS_ACCESS_DENIED';
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'RedisAccessError';
  }
}
