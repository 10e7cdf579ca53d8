export { freePort } from './free-port.ts';
export { type RedisServer, sharedRedis, startRedis, testPrefix } from './redis-server.ts';
export { waitFor } from './wait-for.ts';
