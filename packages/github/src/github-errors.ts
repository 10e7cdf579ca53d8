import { redactSecrets } from '@evalbot/logger';

/** What a caller needs to decide about a failed GitHub call. */
export interface GitHubErrorInfo {
  /** HTTP status, or undefined when no answer came (network error). */
  status: number | undefined;
  /**
   * True for what may pass if tried again later: 5xx, 429, rate limits, network errors.
   * False for answers that will not change (401, 403, 404, 422…): fail at once.
   */
  retryable: boolean;
  /** GitHub's message, secrets removed. */
  message: string;
  /** `x-github-request-id`, to quote to GitHub Support. */
  requestId: string | undefined;
}

const NETWORK_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
  'EAI_AGAIN',
  'UND_ERR_SOCKET',
]);

/** Classify an error thrown by an Octokit call (or anything else) as retryable or permanent. */
export function classifyGitHubError(error: unknown): GitHubErrorInfo {
  const e = (error ?? {}) as {
    status?: unknown;
    message?: unknown;
    code?: unknown;
    cause?: { code?: unknown };
    response?: { headers?: Record<string, string | undefined>; data?: unknown };
  };
  const status = typeof e.status === 'number' ? e.status : undefined;
  const headers = e.response?.headers ?? {};
  const message = redactSecrets(typeof e.message === 'string' ? e.message : String(error));
  const rateLimited =
    status === 429 ||
    (status === 403 && (headers['x-ratelimit-remaining'] === '0' || /rate limit/i.test(message)));
  const code =
    typeof e.code === 'string' ? e.code : typeof e.cause?.code === 'string' ? e.cause.code : undefined;
  const network = status === undefined && code !== undefined && NETWORK_CODES.has(code);
  return {
    status,
    retryable: (status !== undefined && status >= 500) || rateLimited || network,
    message,
    requestId: headers['x-github-request-id'],
  };
}

/**
 * GitHub's answer when asking again would get the same (401, 403 without a rate limit, 404,
 * 422…): fail at once and say so. Undefined for anything that may pass later, and for errors
 * that are not GitHub answers.
 */
export function permanentGitHubError(error: unknown): GitHubErrorInfo | undefined {
  const info = classifyGitHubError(error);
  if (info.retryable || info.status === undefined || info.status < 400 || info.status >= 500)
    return undefined;
  return info;
}

/** True when trying the same call again later may succeed (5xx, rate limits, network). */
export function isRetryableGitHubError(error: unknown): boolean {
  return classifyGitHubError(error).retryable;
}
