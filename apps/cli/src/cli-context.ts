import type { Env } from '@evalbot/config';

/** A stream the CLI writes to; `isTTY`/`columns` decide how progress is drawn. */
export interface OutputStream {
  write(chunk: string): unknown;
  isTTY?: boolean;
  columns?: number;
}

/**
 * What a command may touch of the outside world. `main.ts` passes the process's; tests pass
 * their own streams, environment and working directory and run commands in-process.
 */
export interface CliContext {
  stdout: OutputStream;
  stderr: OutputStream;
  env: Env;
  cwd: string;
  /**
   * Aborted on the first Ctrl-C (SIGINT): a long-running command stops its work, closes what it
   * opened and returns (a second Ctrl-C exits at once).
   */
  signal: AbortSignal;
}

/**
 * A failure the user can act on: `runCli` prints the message (if any) to stderr and exits with
 * `exitCode`, without a stack trace.
 */
export class CliError extends Error {
  readonly code = 'EVALBOT_CLI_ERROR';
  constructor(
    message: string,
    readonly exitCode = 1,
  ) {
    super(message);
    this.name = 'CliError';
  }
}
