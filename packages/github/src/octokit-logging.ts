import { type Logger, redactSecrets } from '@evalbot/logger';
import type { Octokit } from '@octokit/rest';

/**
 * Octokit's `log` option, writing to pino with secrets removed. Octokit's own per-request
 * debug/info lines go to `trace` (`logRequests` writes a structured line instead); warnings
 * (auth-app's clock-skew and token-replication retries) stay warnings.
 */
export function octokitLog(logger: Logger) {
  const write =
    (level: 'trace' | 'warn' | 'error') =>
    (message: unknown, ...details: unknown[]) => {
      if (!logger.isLevelEnabled(level)) return;
      const text = redactSecrets(message instanceof Error ? message.message : String(message));
      if (details.length === 0) logger[level](text);
      else logger[level]({ details: details.map(describe) }, text);
    };
  return { debug: write('trace'), info: write('trace'), warn: write('warn'), error: write('error') };
}

function describe(detail: unknown): string {
  if (detail instanceof Error) return redactSecrets(detail.message);
  if (typeof detail === 'string') return redactSecrets(detail);
  try {
    return redactSecrets(JSON.stringify(detail));
  } catch {
    return String(detail);
  }
}

/**
 * Log each API call once, after retries: route template (never a token), status, time taken
 * and GitHub's request id. Failures are warnings; successes debug lines.
 */
export function logRequests(octokit: Octokit, logger: Logger): void {
  octokit.hook.wrap('request', async (request, options) => {
    const started = performance.now();
    const route = `${options.method} ${options.url}`;
    try {
      const response = await request(options);
      logger.debug(
        {
          route,
          status: response.status,
          ms: Math.round(performance.now() - started),
          requestId: response.headers['x-github-request-id'],
        },
        'github request',
      );
      return response;
    } catch (error) {
      const e = error as {
        status?: number;
        message?: string;
        response?: { headers?: Record<string, string> };
      };
      logger.warn(
        {
          route,
          status: e.status,
          ms: Math.round(performance.now() - started),
          requestId: e.response?.headers?.['x-github-request-id'],
          error: redactSecrets(e.message ?? String(error)),
        },
        'github request failed',
      );
      throw error;
    }
  });
}
