import { z } from 'zod';

/** An integer variable within [min, max]; the message says what was given and what is allowed. */
export function envInt(opts: { default: number; min?: number; max?: number }) {
  const min = opts.min ?? Number.MIN_SAFE_INTEGER;
  const max = opts.max ?? Number.MAX_SAFE_INTEGER;
  return z
    .string()
    .optional()
    .transform((raw, ctx) => {
      if (raw === undefined) return opts.default;
      const value = Number(raw.trim());
      if (!Number.isInteger(value) || value < min || value > max) {
        ctx.addIssue({
          code: 'custom',
          message: `"${raw}" is not a whole number between ${min} and ${max}`,
        });
        return z.NEVER;
      }
      return value;
    });
}

/**
 * An optional id GitHub gives (an App's, an installation's): a positive whole number, or a
 * ConfigError that says `"<value>" is <what>`.
 */
export function envOptionalId(what: string) {
  return z
    .string()
    .optional()
    .transform((raw, ctx) => {
      if (raw === undefined) return undefined;
      const id = Number(raw.trim());
      if (!Number.isSafeInteger(id) || id <= 0) {
        ctx.addIssue({ code: 'custom', message: `"${raw}" is ${what}` });
        return z.NEVER;
      }
      return id;
    });
}

/** An http(s) URL; a trailing slash is removed so paths can be appended. */
export function envHttpUrl(defaultValue: string) {
  return z
    .string()
    .default(defaultValue)
    .transform((raw, ctx) => {
      let url: URL;
      try {
        url = new URL(raw.trim());
      } catch {
        ctx.addIssue({ code: 'custom', message: `"${raw}" is not a URL; use e.g. ${defaultValue}` });
        return z.NEVER;
      }
      if (url.protocol !== 'http:' && url.protocol !== 'https:') {
        ctx.addIssue({ code: 'custom', message: `"${raw}" must start with http:// or https://` });
        return z.NEVER;
      }
      return url.toString().replace(/\/+$/, '');
    });
}

export const logLevelSchema = z
  .enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'], {
    error: 'use one of fatal, error, warn, info, debug, trace, silent',
  })
  .default('info');
