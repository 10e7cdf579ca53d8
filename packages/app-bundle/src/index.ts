export {
  type BuiltApp,
  buildApps,
  bundlePath,
  DEPLOYED_APPS,
  type DeployedApp,
  NODE_FLAGS,
} from './build-apps.ts';
