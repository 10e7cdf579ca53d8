export { BODY_LIMIT_BYTES } from './body-limits.ts';
export { buildApp, type GatewayDeps } from './build-app.ts';
export { type GatewayConfig, loadConfig } from './config.ts';
export { DeliveryRecorder, RedisUnavailableError } from './delivery-recorder.ts';
export { buildInternalApp } from './internal-app.ts';
export { type Decision, ROUTED_EVENTS, routeDelivery } from './route-delivery.ts';
export { verifySignature } from './verify-signature.ts';
