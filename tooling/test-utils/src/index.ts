export { freePort, type RedisServer, startRedis, waitFor } from '@evalbot/local-stack';
export { browserSkipReason, CHROMIUM_PATH, launchChromium } from './chromium.ts';
export { type FakeTrainerOptions, fakeTrainer } from './fake-trainer.ts';
export { commit, git, type RepoFile } from './git-repo.ts';
export { type HoldingProxy, startHoldingProxy } from './holding-proxy.ts';
export {
  isRunning,
  liveChildren,
  liveProcesses,
  type ProcessEntry,
  processesInside,
  processesWithArg,
  processesWithCmdline,
} from './processes.ts';
export { type PullRequestFixture, pullRequest } from './pull-request.ts';
export { type RedisCluster, startRedisCluster } from './redis-cluster.ts';
export { redisTargetEnv } from './redis-target-env.ts';
export { type SecuredRedis, type SecuredRedisOptions, startSecuredRedis } from './secured-redis.ts';
export { SENTINEL_MASTER_NAME, type SentinelGroup, startSentinelGroup } from './sentinel-group.ts';
export { sharedRedis, testPrefix } from './shared-redis.ts';
export { rootSkipReason, titleSkippedIf } from './skip-reason.ts';
export { type SpawnedApp, spawnApp } from './spawn-app.ts';
