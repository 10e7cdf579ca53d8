export { MAX_REPO_CONFIG_BYTES, parseRepoConfig, REPO_CONFIG_FILE } from './parse-repo-config.ts';
export { RepoConfigError } from './repo-config-error.ts';
export {
  type Direction,
  directionSchema,
  type MetricSettings,
  metricSettingsSchema,
  type RepoConfig,
  repoConfigSchema,
} from './schema.ts';
