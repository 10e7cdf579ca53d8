import { mkdir } from 'node:fs/promises';
import { resolve } from 'node:path';
import { parseEnv, workDirsEnv } from '@evalbot/config';
import { InvalidArgumentError } from 'commander';
import { z } from 'zod';
import type { CliContext } from './cli-context.ts';

/** Commander parser for `--timeout-minutes`: a positive number of minutes. */
export function minutes(value: string): number {
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0) throw new InvalidArgumentError('must be a number of minutes above 0');
  return n;
}

/** `EVALBOT_WORK_DIR` and `EVALBOT_CACHE_DIR`, with the worker's defaults (`workDirsEnv`). */
export function workDirsOf(ctx: CliContext) {
  return parseEnv(z.object(workDirsEnv), ctx.env);
}

/**
 * The cache directory of cached virtual environments, created if missing: `--cache-dir`, else
 * `$EVALBOT_CACHE_DIR`, else the worker's default `~/.cache/evalbot`, so the CLI and a worker on
 * the same machine share what they built.
 */
export async function cacheDirOf(ctx: CliContext, option: string | undefined): Promise<string> {
  const dir = resolve(ctx.cwd, option ?? workDirsOf(ctx).EVALBOT_CACHE_DIR);
  await mkdir(dir, { recursive: true });
  return dir;
}
