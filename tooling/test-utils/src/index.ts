export { freePort, type RedisServer, startRedis, waitFor } from '@evalbot/local-stack';
export { browserSkipReason, CHROMIUM_PATH, launchChromium } from './chromium.ts';
export { type HoldingProxy, startHoldingProxy } from './holding-proxy.ts';
export { processesWithArg } from './processes-with-arg.ts';
export { type RedisCluster, startRedisCluster } from './redis-cluster.ts';
export { type SecuredRedis, type SecuredRedisOptions, startSecuredRedis } from './secured-redis.ts';
export { SENTINEL_MASTER_NAME, type SentinelGroup, startSentinelGroup } from './sentinel-group.ts';
export { sharedRedis, testPrefix } from './shared-redis.ts';
export { type SpawnedApp, spawnApp } from './spawn-app.ts';
