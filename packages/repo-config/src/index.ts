export { MAX_REPO_CONFIG_BYTES, parseRepoConfig, REPO_CONFIG_FILE } from './parse-repo-config.ts';
export { RepoConfigError } from './repo-config-error.ts';
export {
  DEFAULT_POOL,
  type Direction,
  directionSchema,
  GPU_POOL,
  type MetricSettings,
  metricSettingsSchema,
  POOL_NAME,
  poolOf,
  type RepoConfig,
  type Resources,
  repoConfigSchema,
  resourcesSchema,
} from './schema.ts';
