import type { RedisSentinelTarget, RedisTarget } from '@evalbot/config';
import { Redis } from 'ioredis';
import { redisTargetOptions } from './create-redis-connection.ts';
import { RedisAccessError } from './redis-access-error.ts';

export interface VerifyRedisAccessOptions {
  /** How long to wait for an answer before calling Redis unreachable. Default 5000 ms. */
  timeoutMs?: number;
}

/** Node's codes for a certificate it cannot trust (self-signed, unknown CA, wrong name, expired). */
const CERTIFICATE_ERRORS =
  /^(SELF_SIGNED_CERT_IN_CHAIN|DEPTH_ZERO_SELF_SIGNED_CERT|UNABLE_TO_VERIFY_LEAF_SIGNATURE|UNABLE_TO_GET_ISSUER_CERT(_LOCALLY)?|CERT_HAS_EXPIRED|CERT_NOT_YET_VALID|ERR_TLS_CERT_ALTNAME_INVALID|CERT_UNTRUSTED|CERT_SIGNATURE_FAILURE)$/;

/** `redis://user:***@host:port`: where, and as whom, without the password. */
export function describeRedisUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = '***';
    return parsed.toString().replace(/\/$/, '');
  } catch {
    return 'REDIS_URL';
  }
}

/**
 * Connect to `target` once (its URL, or the master its Sentinels name), authenticate and run the commands every app needs (PING, and INFO,
 * which BullMQ reads the server version with). Resolves `true` when Redis serves this client,
 * `false` when it cannot be reached (an app then starts and waits for it, as it does when Redis
 * goes away later); rejects with a {@link RedisAccessError} that says what to fix when Redis
 * refuses the credentials, the user's ACL, or the TLS link.
 */
export async function verifyRedisAccess(
  target: RedisTarget,
  opts: VerifyRedisAccessOptions = {},
): Promise<boolean> {
  const timeoutMs = opts.timeoutMs ?? 5_000;
  const { url, sentinel } = target;
  const where = sentinel
    ? `${describeRedisUrl(url)} (master "${sentinel.name}" of the Sentinels ${sentinel.sentinels.map((s) => `${s.host}:${s.port}`).join(',')})`
    : describeRedisUrl(url);
  const probe = new Redis(url, {
    ...redisTargetOptions(target),
    failoverDetector: false,
    // Left at its default, ioredis asks unreachable Sentinels again forever instead of failing.
    sentinelRetryStrategy: () => null,
    lazyConnect: true,
    enableReadyCheck: false,
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
    connectTimeout: timeoutMs,
    commandTimeout: timeoutMs,
    connectionName: 'evalbot-access-check',
  });
  // ioredis reports a refused AUTH or TLS handshake as an event, and the command that follows
  // fails with only "Connection is closed": what Redis or TLS said is kept here.
  const seen: Error[] = [];
  probe.on('error', (error: Error) => seen.push(error));
  try {
    await probe.connect();
    await probe.ping();
    await probe.info('server');
    return true;
  } catch (error) {
    for (const cause of [...seen, error as Error]) {
      const refusal =
        (sentinel && explainSentinelRefusal(cause as Error, sentinel)) ||
        explainRefusal(cause as Error & { code?: string }, where);
      if (refusal) throw new RedisAccessError(refusal, { cause });
    }
    const untrusted = sentinel?.tls && (await untrustedSentinel(sentinel, target.tlsCa, timeoutMs));
    if (untrusted) throw new RedisAccessError(untrusted, { cause: error });
    return false;
  } finally {
    probe.disconnect();
  }
}

function explainRefusal(error: Error & { code?: string }, where: string): string | undefined {
  const message = error.message.replace(/^AUTH /, '');
  if (/^(WRONGPASS|NOAUTH)\b/.test(message) || /invalid password/i.test(message)) {
    return `Redis at ${where} refused the credentials in REDIS_URL (${message.trim()}). Put the user and password Redis expects in REDIS_URL, as redis://USER:PASSWORD@HOST:PORT (with Docker Compose: the REDIS_*_PASSWORD values in .env, which \`evalbot setup\` writes).`;
  }
  if (/^NOPERM\b/.test(message)) {
    return `Redis at ${where} does not let this user run what evalbot needs (${message.trim()}). Give the Redis user in REDIS_URL the ACL in docker-compose.yml (see docs/operations.md, "Redis").`;
  }
  if (error.code && CERTIFICATE_ERRORS.test(error.code)) {
    return `Redis at ${where} presented a TLS certificate that cannot be trusted (${error.code}: ${message}). Set REDIS_TLS_CA_FILE to the PEM file of the CA that signed it, and make sure REDIS_URL's host is a name the certificate is for.`;
  }
  return undefined;
}

/**
 * ioredis reports a Sentinel's refusal as "All sentinels are unreachable … Last error: …": a
 * wrong Sentinel password or a master name no Sentinel monitors is a setting to fix, not an
 * outage to wait out.
 */
function explainSentinelRefusal(error: Error, sentinel: RedisSentinelTarget): string | undefined {
  const last = /Last error: (.*)$/s.exec(error.message)?.[1]?.trim();
  if (!last) return undefined;
  const sentinels = sentinel.sentinels.map((s) => `${s.host}:${s.port}`).join(',');
  if (/^(WRONGPASS|NOAUTH)\b/.test(last) || /invalid password/i.test(last)) {
    return `The Sentinels ${sentinels} refused ${sentinel.password ? 'the password in REDIS_SENTINEL_PASSWORD' : 'to answer without a password'} (${last}). Set REDIS_SENTINEL_PASSWORD to the Sentinels' own password (requirepass in sentinel.conf), which may differ from the one in REDIS_URL.`;
  }
  if (/No such master with that name/i.test(last)) {
    return `No Sentinel of ${sentinels} monitors a master named "${sentinel.name}" (${last}). Set REDIS_SENTINEL_MASTER to the name in their \`sentinel monitor NAME …\` line (\`redis-cli -p PORT SENTINEL MASTERS\` lists them).`;
  }
  return undefined;
}

/**
 * Through TLS Sentinels ioredis says only "Connection is closed" when a certificate is not
 * trusted; one direct connection to the first Sentinel tells that apart from an outage.
 */
async function untrustedSentinel(
  sentinel: RedisSentinelTarget,
  tlsCa: string | undefined,
  timeoutMs: number,
): Promise<string | undefined> {
  const first = sentinel.sentinels[0];
  if (!first) return undefined;
  const direct = new Redis({
    host: first.host,
    port: first.port,
    tls: tlsCa ? { ca: tlsCa } : {},
    lazyConnect: true,
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
    connectTimeout: timeoutMs,
  });
  const seen: (Error & { code?: string })[] = [];
  direct.on('error', (error: Error) => seen.push(error));
  try {
    await direct.connect();
  } catch (error) {
    seen.push(error as Error);
  } finally {
    direct.disconnect();
  }
  const bad = seen.find((error) => error.code && CERTIFICATE_ERRORS.test(error.code));
  if (!bad) return undefined;
  return `The Sentinel at ${first.host}:${first.port} presented a TLS certificate that cannot be trusted (${bad.code}: ${bad.message}). Set REDIS_TLS_CA_FILE to the PEM file of the CA that signed the Sentinels' and Redis's certificates, and list the Sentinels in REDIS_SENTINELS by names their certificates are for.`;
}
