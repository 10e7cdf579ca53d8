export { DEFAULT_WEBHOOK_PATH, optionalAppIdEnv, webhookEndpointEnv, workDirsEnv } from './app-sections.ts';
export { ConfigError } from './config-error.ts';
export { envHttpUrl, envInt, envOptionalId, logLevelSchema } from './fields.ts';
export { type Env, parseEnv } from './parse-env.ts';
export {
  evaluateLabelEnv,
  type GitHubAppCredentials,
  githubEndpointEnv,
  loadGitHubAppCredentials,
  logEnv,
  prefixEnv,
  type RedisSentinelTarget,
  type RedisTarget,
  redisEnv,
  redisTargetOf,
  type SandboxSettingsFromEnv,
  sandboxEnv,
  sandboxSettingsOf,
} from './sections.ts';
