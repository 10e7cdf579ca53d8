export { buildApp, type GatewayDeps } from './build-app.ts';
export { type GatewayConfig, loadConfig } from './config.ts';
