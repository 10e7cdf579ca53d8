import type { Env } from '@evalbot/config';
import type { CliContext } from '../src/cli-context.ts';

/** A CLI context whose output is kept in strings, for running commands in-process. */
export function captureCli(opts: { env?: Env; cwd?: string; signal?: AbortSignal; isTTY?: boolean } = {}) {
  let out = '';
  let err = '';
  const ctx: CliContext = {
    stdout: { write: (chunk: string) => (out += chunk), isTTY: opts.isTTY ?? false },
    stderr: { write: (chunk: string) => (err += chunk), isTTY: opts.isTTY ?? false },
    env: opts.env ?? {},
    cwd: opts.cwd ?? process.cwd(),
    signal: opts.signal ?? new AbortController().signal,
  };
  return { ctx, stdout: () => out, stderr: () => err };
}
