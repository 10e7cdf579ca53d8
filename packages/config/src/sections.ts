import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { ConfigError } from './config-error.ts';
import { envHttpUrl, envInt, logLevelSchema } from './fields.ts';
import type { Env } from './parse-env.ts';

/**
 * Redis connection, shared by every app: `REDIS_URL` (with the password, and `rediss://` for
 * TLS), `REDIS_TLS_CA_FILE`, the CA that signed a TLS Redis's certificate when it is not one
 * Node trusts already, and for a Sentinel group `REDIS_SENTINELS`, `REDIS_SENTINEL_MASTER` and
 * `REDIS_SENTINEL_PASSWORD`. Turn the parsed values into a {@link RedisTarget} with `redisTargetOf`.
 */
export const redisEnv = {
  REDIS_URL: z
    .string({ error: 'is required; set it to the Redis server, e.g. redis://:PASSWORD@localhost:6379' })
    .refine((v) => /^rediss?:\/\//.test(v), 'must start with redis:// or rediss:// (TLS)')
    .refine(
      (v) => URL.canParse(v),
      'is not a valid URL; write it as redis://USER:PASSWORD@HOST:PORT and percent-encode any "@", ":", "/" or "%" in the password',
    ),
  REDIS_TLS_CA_FILE: z
    .string()
    .optional()
    .transform((path, ctx) => {
      if (path === undefined) return undefined;
      try {
        const pem = readFileSync(path.trim(), 'utf8');
        if (pem.includes('-----BEGIN CERTIFICATE-----')) return pem;
        ctx.addIssue({
          code: 'custom',
          message: `${path} holds no PEM certificate ("-----BEGIN CERTIFICATE-----")`,
        });
      } catch (error) {
        ctx.addIssue({ code: 'custom', message: `cannot read ${path}: ${(error as Error).message}` });
      }
      return z.NEVER;
    }),
  REDIS_SENTINELS: z
    .string()
    .optional()
    .transform((raw, ctx) => {
      if (raw === undefined) return undefined;
      const addresses: { host: string; port: number }[] = [];
      for (const entry of raw.split(',').map((e) => e.trim())) {
        const address = sentinelAddressOf(entry);
        if (address) addresses.push(address);
        else
          ctx.addIssue({
            code: 'custom',
            message: `"${entry}" is not HOST:PORT; list the Sentinels as sentinel-1:26379,sentinel-2:26379,sentinel-3:26379`,
          });
      }
      return addresses;
    }),
  REDIS_SENTINEL_MASTER: z
    .string()
    .optional()
    .refine(
      (v) => v === undefined || /^[A-Za-z0-9_.-]+$/.test(v.trim()),
      'must be the master group name the Sentinels monitor (`sentinel monitor NAME …`), e.g. mymaster',
    ),
  REDIS_SENTINEL_PASSWORD: z.string().optional(),
};

/** `host:port` or `[ipv6]:port`; undefined when it is neither. */
function sentinelAddressOf(entry: string): { host: string; port: number } | undefined {
  const match = /^(?:\[([0-9A-Fa-f:.]+)\]|([^:\s[\]]+)):(\d{1,5})$/.exec(entry);
  const port = Number(match?.[3]);
  const host = match?.[1] ?? match?.[2];
  if (!host || !Number.isInteger(port) || port < 1 || port > 65535) return undefined;
  return { host, port };
}

/** A Redis reached through Sentinel: ask `sentinels` where the master of group `name` is. */
export interface RedisSentinelTarget {
  sentinels: { host: string; port: number }[];
  /** The master group name (`sentinel monitor NAME …` in sentinel.conf). */
  name: string;
  /** The Sentinels' own password (`requirepass` in sentinel.conf), when they ask for one. */
  password?: string;
  /** TLS to the Sentinels and to the master (a `rediss://` `REDIS_URL`). */
  tls?: boolean;
}

/**
 * Where Redis is and how to trust it: each app config's `redis`, as `createRedisConnection` and
 * `verifyRedisAccess` in `@evalbot/jobs` take it.
 */
export interface RedisTarget {
  /**
   * `redis://` or `rediss://`, with user and password when Redis asks for them. With
   * {@link RedisTarget.sentinel} its host and port are not used: the Sentinels name the master.
   */
  url: string;
  /** PEM of the CA that signed Redis's TLS certificate, when Node's own CAs do not cover it. */
  tlsCa?: string;
  /** Set when Redis is a Sentinel group (`REDIS_SENTINELS`, `REDIS_SENTINEL_MASTER`). */
  sentinel?: RedisSentinelTarget;
}

/**
 * The {@link RedisTarget} of a parsed `redisEnv`. A CA file with a plain `redis://` URL is
 * refused rather than silently turning TLS on: the URL alone says whether the link is encrypted.
 */
export function redisTargetOf(parsed: {
  REDIS_URL: string;
  REDIS_TLS_CA_FILE?: string | undefined;
  REDIS_SENTINELS?: { host: string; port: number }[] | undefined;
  REDIS_SENTINEL_MASTER?: string | undefined;
  REDIS_SENTINEL_PASSWORD?: string | undefined;
}): RedisTarget {
  const problems: { variable: string; problem: string }[] = [];
  if (parsed.REDIS_TLS_CA_FILE && !parsed.REDIS_URL.startsWith('rediss://')) {
    problems.push({
      variable: 'REDIS_TLS_CA_FILE',
      problem:
        'is set but REDIS_URL starts with redis:// (no TLS); use rediss:// for a TLS Redis, or unset REDIS_TLS_CA_FILE',
    });
  }
  const sentinels = parsed.REDIS_SENTINELS;
  const master = parsed.REDIS_SENTINEL_MASTER?.trim();
  if (sentinels) {
    if (!master)
      problems.push({
        variable: 'REDIS_SENTINEL_MASTER',
        problem:
          'is required with REDIS_SENTINELS; set it to the master group name the Sentinels monitor, e.g. mymaster',
      });
  } else {
    for (const variable of ['REDIS_SENTINEL_MASTER', 'REDIS_SENTINEL_PASSWORD'] as const) {
      if (parsed[variable])
        problems.push({
          variable,
          problem: 'is set but REDIS_SENTINELS is not; list the Sentinels in REDIS_SENTINELS, or unset it',
        });
    }
  }
  if (problems.length > 0) throw new ConfigError(problems);
  return {
    url: parsed.REDIS_URL,
    ...(parsed.REDIS_TLS_CA_FILE ? { tlsCa: parsed.REDIS_TLS_CA_FILE } : {}),
    ...(sentinels && master
      ? {
          sentinel: {
            sentinels,
            name: master,
            // rediss://: TLS to the Sentinels and to the master alike, with REDIS_TLS_CA_FILE.
            ...(parsed.REDIS_URL.startsWith('rediss://') ? { tls: true } : {}),
            ...(parsed.REDIS_SENTINEL_PASSWORD ? { password: parsed.REDIS_SENTINEL_PASSWORD } : {}),
          },
        }
      : {}),
  };
}

export const logEnv = { LOG_LEVEL: logLevelSchema };

/**
 * The BullMQ key prefix, which every app must agree on (a gateway and a worker with different
 * prefixes never meet). BullMQ adds the ":" itself. On a Redis Cluster it starts with a hash
 * tag, `{evalbot}`: every key then lies in that tag's slot, as BullMQ's scripts and evalbot's
 * multi-key commands require.
 */
export const prefixEnv = {
  BULLMQ_PREFIX: z
    .string()
    .default('evalbot')
    .refine(
      (v) => /^(\{[A-Za-z0-9_.-]+\})?[A-Za-z0-9_.-]*$/.test(v) && v.length > 0,
      'use letters, digits, "_", "." or "-" (BullMQ adds the ":"), optionally after one Redis Cluster hash tag at the start, e.g. {evalbot} or {evalbot}-staging',
    ),
};

/** The label that asks for an evaluation; matched case-insensitively. */
export const evaluateLabelEnv = {
  EVALUATE_LABEL: z
    .string()
    .default('evaluate')
    .transform((v) => v.trim())
    .refine((v) => v.length > 0 && v.length <= 50, 'must be a label name of 1 to 50 characters'),
};

/** Where GitHub is: github.com by default, or a GitHub Enterprise Server / local stand-in. */
export const githubEndpointEnv = {
  GITHUB_API_URL: envHttpUrl('https://api.github.com'),
  GITHUB_URL: envHttpUrl('https://github.com'),
};

export interface GitHubAppCredentials {
  appId: number;
  privateKey: string;
}

/**
 * Read the App's id and private key (`PRIVATE_KEY`, or `PRIVATE_KEY_PATH` to a PEM file; both
 * set is refused). Keys pasted into `.env` with literal `\n` are accepted, as Probot accepts them.
 */
export function loadGitHubAppCredentials(env: Env): GitHubAppCredentials {
  const problems: { variable: string; problem: string }[] = [];
  const rawId = env.APP_ID?.trim();
  const appId = Number(rawId);
  if (!rawId)
    problems.push({ variable: 'APP_ID', problem: 'is required; copy it from the App settings page' });
  else if (!Number.isInteger(appId) || appId <= 0)
    problems.push({ variable: 'APP_ID', problem: `"${rawId}" is not a positive whole number` });

  let privateKey = env.PRIVATE_KEY?.trim() ?? '';
  if (privateKey && env.PRIVATE_KEY_PATH?.trim()) {
    // Neither may silently win: a rotation that changed one and not the other would keep the old key.
    problems.push({
      variable: 'PRIVATE_KEY/PRIVATE_KEY_PATH',
      problem:
        'are both set; keep one: PRIVATE_KEY_PATH for a key file (what docs/operations.md rotates), or PRIVATE_KEY inline, and remove the other',
    });
    privateKey = '';
  } else if (!privateKey && env.PRIVATE_KEY_PATH?.trim()) {
    try {
      privateKey = readFileSync(env.PRIVATE_KEY_PATH.trim(), 'utf8').trim();
    } catch (error) {
      problems.push({
        variable: 'PRIVATE_KEY_PATH',
        problem: `cannot read ${env.PRIVATE_KEY_PATH}: ${(error as Error).message}`,
      });
    }
  } else if (!privateKey) {
    problems.push({
      variable: 'PRIVATE_KEY',
      problem: 'is required (or PRIVATE_KEY_PATH); download a private key from the App settings page',
    });
  }
  privateKey = privateKey.replace(/\\n/g, '\n');
  if (privateKey && !/-----BEGIN (RSA )?PRIVATE KEY-----/.test(privateKey)) {
    problems.push({
      variable: env.PRIVATE_KEY ? 'PRIVATE_KEY' : 'PRIVATE_KEY_PATH',
      problem: 'is not a PEM private key (it must contain "-----BEGIN RSA PRIVATE KEY-----")',
    });
  }
  if (problems.length > 0) throw new ConfigError(problems);
  return { appId, privateKey };
}

const MiB = 1024 * 1024;

/**
 * The sandbox PR code runs in (`@evalbot/evaluator`'s `createSandbox`): its uids, its limits,
 * and the loudly named opt-out. Read by the worker and by `evalbot compare`.
 */
export const sandboxEnv = {
  EVALBOT_SANDBOX_UIDS: z
    .string()
    .default('50000-50999')
    .refine((v) => /^\s*\d+\s*-\s*\d+\s*$/.test(v), 'must be a range of uids, e.g. 50000-50999')
    .transform((v) => {
      const [first, last] = v.split('-').map((n) => Number(n.trim()));
      return { first: first ?? 0, last: last ?? 0 };
    })
    .refine(
      (r) => r.first > 0 && r.last >= r.first,
      'must be a range of non-root uids, first ≤ last, e.g. 50000-50999 (no account may use them)',
    ),
  EVALBOT_SANDBOX_MEMORY_MB: envInt({ default: 8192, min: 64, max: 4 * 1024 * 1024 }),
  EVALBOT_SANDBOX_MAX_PROCESSES: envInt({ default: 512, min: 16, max: 1_000_000 }),
  EVALBOT_SANDBOX_MAX_FILE_MB: envInt({ default: 4096, min: 1, max: 16 * 1024 * 1024 }),
  EVALBOT_SANDBOX_DISK_MB: envInt({ default: 10240, min: 16, max: 64 * 1024 * 1024 }),
  EVALBOT_SANDBOX_TMP_MB: envInt({ default: 1024, min: 1, max: 1024 * 1024 }),
  /** Runs PR code uncontained, as the worker: only for local experiments with one's own code. */
  EVALBOT_UNSAFE_NO_SANDBOX: z
    .enum(['', '0', '1', 'true', 'false'], { message: 'must be 1 (run PR code without a sandbox) or unset' })
    .default('')
    .transform((v) => v === '1' || v === 'true'),
};

/** The sandbox's settings as `createSandbox` takes them (sizes in bytes). */
export interface SandboxSettingsFromEnv {
  uids: { first: number; last: number };
  limits: {
    memoryBytes: number;
    processes: number;
    fileSizeBytes: number;
    diskBytes: number;
    tmpBytes: number;
  };
}

/** The parsed `sandboxEnv` as settings; undefined when `EVALBOT_UNSAFE_NO_SANDBOX` is set. */
export function sandboxSettingsOf(parsed: {
  EVALBOT_UNSAFE_NO_SANDBOX: boolean;
  EVALBOT_SANDBOX_UIDS: { first: number; last: number };
  EVALBOT_SANDBOX_MEMORY_MB: number;
  EVALBOT_SANDBOX_MAX_PROCESSES: number;
  EVALBOT_SANDBOX_MAX_FILE_MB: number;
  EVALBOT_SANDBOX_DISK_MB: number;
  EVALBOT_SANDBOX_TMP_MB: number;
}): SandboxSettingsFromEnv | undefined {
  if (parsed.EVALBOT_UNSAFE_NO_SANDBOX) return undefined;
  return {
    uids: parsed.EVALBOT_SANDBOX_UIDS,
    limits: {
      memoryBytes: parsed.EVALBOT_SANDBOX_MEMORY_MB * MiB,
      processes: parsed.EVALBOT_SANDBOX_MAX_PROCESSES,
      fileSizeBytes: parsed.EVALBOT_SANDBOX_MAX_FILE_MB * MiB,
      diskBytes: parsed.EVALBOT_SANDBOX_DISK_MB * MiB,
      tmpBytes: parsed.EVALBOT_SANDBOX_TMP_MB * MiB,
    },
  };
}
