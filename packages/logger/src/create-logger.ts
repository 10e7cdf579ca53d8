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

export interface CreateLoggerOptions {
  service: string;
  level?: string;
  /** Where lines go; stdout by default. Tests pass a stream to read what was logged. */
  destination?: DestinationStream;
}

export function createLogger(opts: CreateLoggerOptions): Logger {
  return pino(
    {
      name: opts.service,
      level: opts.level ?? 'info',
      redact: { paths: REDACTED_PATHS, censor: '[redacted]' },
      base: { service: opts.service },
      timestamp: pino.stdTimeFunctions.isoTime,
    },
    opts.destination,
  );
}
