export { freePort, type RedisServer, startRedis, waitFor } from '@evalbot/local-stack';
export { sharedRedis, testPrefix } from './shared-redis.ts';
