export {
  BUNDLE_TARGET,
  type BuiltApp,
  buildApps,
  bundlePath,
  DEPLOYED_APPS,
  type DeployedApp,
  IMAGE_NODE_MAJOR,
  NODE_FLAGS,
} from './build-apps.ts';
