import { buildApps, DEPLOYED_APPS, type DeployedApp } from './build-apps.ts';

// `pnpm build [app…]`: bundle the named apps (default all) into apps/<app>/dist/main.js.
const names = process.argv.slice(2);
const unknown = names.filter((name) => !(DEPLOYED_APPS as readonly string[]).includes(name));
if (unknown.length > 0) {
  console.error(`Unknown app: ${unknown.join(', ')}. Apps: ${DEPLOYED_APPS.join(', ')}.`);
  process.exit(2);
}
const apps = names.length > 0 ? (names as DeployedApp[]) : DEPLOYED_APPS;
for (const { file, bytes } of await buildApps(apps)) {
  console.log(`${file} (${(bytes / 1024).toFixed(0)} KiB)`);
}
