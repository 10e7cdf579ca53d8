import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { ConfigError } from './config-error.ts';
import { envHttpUrl, logLevelSchema } from './fields.ts';
import type { Env } from './parse-env.ts';

/** Redis connection, shared by every app. */
export const redisEnv = {
  REDIS_URL: z
    .string({ error: 'is required; set it to the Redis server, e.g. redis://localhost:6379' })
    .refine((v) => /^rediss?:\/\//.test(v), 'must start with redis:// or rediss://'),
};

export const logEnv = { LOG_LEVEL: logLevelSchema };

/**
 * The BullMQ key prefix, which every app must agree on (a gateway and a worker with different
 * prefixes never meet). BullMQ adds the ":" itself.
 */
export const prefixEnv = {
  BULLMQ_PREFIX: z
    .string()
    .default('evalbot')
    .refine((v) => /^[A-Za-z0-9_.-]+$/.test(v), 'use letters, digits, "_", "." or "-" (BullMQ adds the ":")'),
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
 * Read the App's id and private key (`PRIVATE_KEY`, or `PRIVATE_KEY_PATH` to a PEM file).
 * Keys pasted into `.env` with literal `\n` are accepted, as Probot accepts them.
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
  if (!privateKey && env.PRIVATE_KEY_PATH?.trim()) {
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
