import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const CERTIFICATE = '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n';

/**
 * Every Redis variable an app reads (a `rediss://` URL for `user`, a CA file, a Sentinel group
 * with its password) and the `RedisTarget` its configuration must carry for them: each app's
 * config test checks that none is dropped. `remove()` deletes the CA file's directory.
 */
export async function redisTargetEnv(user: string) {
  const dir = await mkdtemp(join(tmpdir(), 'evalbot-redis-target-'));
  await writeFile(join(dir, 'ca.crt'), CERTIFICATE);
  const url = `rediss://${user}:pw@mymaster`;
  return {
    env: {
      REDIS_URL: url,
      REDIS_TLS_CA_FILE: join(dir, 'ca.crt'),
      REDIS_SENTINELS: 'sentinel-1:26379,sentinel-2:26380',
      REDIS_SENTINEL_MASTER: 'mymaster',
      REDIS_SENTINEL_PASSWORD: 'sentinel-pw',
    },
    target: {
      url,
      tlsCa: CERTIFICATE,
      sentinel: {
        sentinels: [
          { host: 'sentinel-1', port: 26379 },
          { host: 'sentinel-2', port: 26380 },
        ],
        name: 'mymaster',
        password: 'sentinel-pw',
        tls: true,
      },
    },
    remove: () => rm(dir, { recursive: true, force: true }),
  };
}
