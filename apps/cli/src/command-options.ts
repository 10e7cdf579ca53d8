import { mkdir } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import { InvalidArgumentError } from 'commander';
import type { CliContext } from './cli-context.ts';

/** Commander parser for `--timeout-minutes`: a positive number of minutes. */
export function minutes(value: string): number {
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0) throw new InvalidArgumentError('must be a number of minutes above 0');
  return n;
}

/**
 * The cache directory of cached virtual environments, created if missing: `--cache-dir`, else
 * `$EVALBOT_CACHE_DIR`, else the worker's default `~/.cache/evalbot`, so the CLI and a worker on
 * the same machine share what they built.
 */
export async function cacheDirOf(ctx: CliContext, option: string | undefined): Promise<string> {
  // As root, the sandbox's uids read the environments: not from root's home, which they cannot reach.
  const fallback = process.getuid?.() === 0 ? '/var/cache/evalbot' : join(homedir(), '.cache', 'evalbot');
  const dir = resolve(ctx.cwd, option ?? ctx.env.EVALBOT_CACHE_DIR ?? fallback);
  await mkdir(dir, { recursive: true });
  return dir;
}
