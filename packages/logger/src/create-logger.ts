import { hostname } from 'node:os';
import pino, { type DestinationStream, type Logger } from 'pino';

export type { Logger } from 'pino';

/** Paths whose values are never written, wherever they appear in a log object. */
export const REDACTED_PATHS = [
  'token',
  '*.token',
  'privateKey',
  '*.privateKey',
  'secret',
  '*.secret',
  'webhookSecret',
  '*.webhookSecret',
  'password',
  '*.password',
  'signature',
  '*.signature',
  'authorization',
  '*.authorization',
  'headers.authorization',
  'req.headers.authorization',
  'req.headers["x-hub-signature-256"]',
  'req.headers["x-hub-signature"]',
  'request.headers.authorization',
  'headers["x-hub-signature-256"]',
];

/** Every app logs as `evalbot-<app>` (`evalbot-gateway`, `evalbot-worker`, …), as Redis knows its connections. */
export type ServiceName = `evalbot-${string}`;

export interface CreateLoggerOptions {
  service: ServiceName;
  level?: string;
  /** Where lines go; stdout by default. Tests pass a stream to read what was logged. */
  destination?: DestinationStream;
}

/**
 * A JSON logger whose every line carries `service`, `pid` and `hostname`, so the lines of
 * scaled workers (each a container with its own hostname) are told apart.
 */
export function createLogger(opts: CreateLoggerOptions): Logger {
  return pino(
    {
      level: opts.level ?? 'info',
      redact: { paths: REDACTED_PATHS, censor: '[redacted]' },
      base: { service: opts.service, pid: process.pid, hostname: hostname() },
      timestamp: pino.stdTimeFunctions.isoTime,
    },
    opts.destination,
  );
}

/**
 * Standard output written asynchronously and in blocks: a log call only appends to a buffer,
 * which is written (off the caller's path) once it holds `minBytes`, or every `flushMs` — so a
 * busy process makes one write for many lines, and a quiet one shows its lines within `flushMs`.
 * What is buffered is written synchronously when the process exits (pino registers that flush
 * for an asynchronous destination), but not a write already on its way: before a deliberate
 * `process.exit`, wait for `logger.flush(callback)`. For a process whose requests must not wait
 * on its log pipe: the gateway.
 */
export function asyncStdout(
  opts: { minBytes?: number; flushMs?: number; maxBytes?: number } = {},
): DestinationStream {
  return pino.destination({
    dest: 1,
    sync: false,
    minLength: opts.minBytes ?? 4096,
    periodicFlush: opts.flushMs ?? 250,
    // Bounded: when stdout's reader stalls, lines beyond this are dropped, not held in memory.
    maxLength: opts.maxBytes ?? 16 * 1024 * 1024,
  });
}
