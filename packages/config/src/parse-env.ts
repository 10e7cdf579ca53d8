import type { z } from 'zod';
import { ConfigError } from './config-error.ts';

export type Env = Record<string, string | undefined>;

/**
 * Parse `env` with `schema` (an object schema keyed by variable name). Empty strings count as
 * unset, as they do in `.env` files and compose files. Throws a {@link ConfigError}.
 */
export function parseEnv<S extends z.ZodObject>(schema: S, env: Env): z.output<S> {
  const cleaned: Env = {};
  for (const [key, value] of Object.entries(env)) {
    if (value !== undefined && value.trim() !== '') cleaned[key] = value;
  }
  const result = schema.safeParse(cleaned);
  if (result.success) return result.data;
  throw new ConfigError(
    result.error.issues.map((issue) => ({
      variable: issue.path.map(String).join('.') || '(environment)',
      problem: issue.message,
    })),
  );
}
