import type { Logger } from '@evalbot/logger';
import { createAppAuth } from '@octokit/auth-app';
import { retry } from '@octokit/plugin-retry';
import { throttling } from '@octokit/plugin-throttling';
import { Octokit } from '@octokit/rest';
import Bottleneck from 'bottleneck';
import { createAppJwt, parsePrivateKey } from './app-jwt.ts';
import { logRequests, octokitLog } from './octokit-logging.ts';
import { createScopedTokenAuth } from './scoped-token-auth.ts';
import { createTokenCache } from './token-cache.ts';
import type { TokenScope } from './token-scope.ts';

/** Octokit with GitHub's recommended retry (5xx) and throttling (rate limits, write pacing). */
const EvalbotOctokit = Octokit.plugin(throttling, retry);
export type GitHubClient = InstanceType<typeof EvalbotOctokit>;

/** Retries of 5xx answers: wait `(attempt + 1)² × retryAfterBaseValue` ms. */
export interface RetryPolicy {
  /** Default 3. */
  retries?: number;
  /** Default 1000 ms; tests pass 1. */
  retryAfterBaseValue?: number;
}

/** Rate limits: secondary limits are retried after `retry-after`, primary ones if the reset is near. */
export interface ThrottlePolicy {
  /** How many times one request is retried after a rate limit (default 3). */
  retries?: number;
  /** Milliseconds per second of `retry-after` (default 1000; tests pass a few ms). */
  retryAfterBaseValue?: number;
  /** Wait used when a secondary limit carries no `retry-after` (seconds, default 60). */
  fallbackSecondaryRateRetryAfter?: number;
  /** Do not wait for a primary rate limit that resets later than this (seconds, default 60): fail, retryable. */
  maxRateLimitWaitSeconds?: number;
  /**
   * Minimum gap between writes (ms). Default: Octokit's (1 s; 3 s between comment creations),
   * as GitHub asks to avoid secondary limits. Tests pass 0.
   */
  writeIntervalMs?: number;
}

export interface GitHubAppOptions {
  appId: number;
  /** PEM (PKCS#1 as GitHub issues it, or PKCS#8). */
  privateKey: string;
  /** `GITHUB_API_URL`; default https://api.github.com. */
  apiUrl?: string;
  logger: Logger;
  retry?: RetryPolicy;
  throttle?: ThrottlePolicy;
  /** Mint a new installation token once the cached one is this close to expiry (default 5 minutes). */
  tokenRefreshMarginMs?: number;
  /** Milliseconds since the epoch (default Date.now): JWT times and token expiry follow it. */
  clock?: () => number;
  /** Called each time a request waits out a rate limit before trying again (for metrics). */
  onRateLimitWait?: (limit: 'primary' | 'secondary', retryAfterSeconds: number) => void;
}

/** One GitHub App in this process: one token cache shared by every installation client. */
export interface GitHubApp {
  readonly appId: number;
  readonly apiUrl: string;
  /** Authenticated as the App itself (JWT): `GET /app`, installations. */
  readonly appOctokit: GitHubClient;
  /**
   * A client for one installation (the `installation.id` of a webhook payload). Pass a child
   * logger carrying the delivery id; tokens come from the shared cache and are refreshed
   * before they expire.
   */
  installationOctokit(installationId: number, log?: Logger, scope?: TokenScope): GitHubClient;
  /**
   * A live installation token, e.g. for git (see `gitCredentialEnv`). Never log it. With
   * `scope`, narrowed to those repositories and permissions (cached per scope).
   */
  installationToken(installationId: number, scope?: TokenScope): Promise<string>;
  /** `<app-slug>[bot]`, the login the App's comments are posted as (from `GET /app`, cached). */
  botLogin(): Promise<string>;
}

/** Create the App's clients. Throws at once if the private key is not a usable RSA key. */
export function createGitHubApp(opts: GitHubAppOptions): GitHubApp {
  const key = parsePrivateKey(opts.privateKey);
  const clock = opts.clock ?? Date.now;
  const apiUrl = (opts.apiUrl ?? 'https://api.github.com').replace(/\/+$/, '');
  const logger = opts.logger.child({ component: 'github', appId: opts.appId });
  const cache = createTokenCache({ refreshMarginMs: opts.tokenRefreshMarginMs ?? 5 * 60_000, clock });
  const createJwt = async (_appId: string | number, timeDifference = 0) =>
    createAppJwt(opts.appId, key, Math.floor(clock() / 1000) + timeDifference);
  const throttleGroups = writeGroups(opts.throttle?.writeIntervalMs);

  const makeClient = (log: Logger, installationId?: number, scope?: TokenScope): GitHubClient => {
    const octokit = new EvalbotOctokit({
      baseUrl: apiUrl,
      userAgent: 'evalbot',
      log: octokitLog(log),
      // auth-app's hook always mints the installation's full token: a scoped client asks the
      // App client for its narrowed token (same cache) on every request instead.
      ...(scope && installationId !== undefined
        ? { authStrategy: createScopedTokenAuth, auth: { token: () => scopedToken(installationId, scope) } }
        : {
            authStrategy: createAppAuth,
            auth: {
              appId: opts.appId,
              createJwt,
              // auth-app types its cache's `get` as always returning a string; ours returns undefined on a miss, as its own LRU does.
              cache: cache as { get(key: string): string; set(key: string, value: string): void },
              ...(installationId === undefined ? {} : { installationId }),
            },
          }),
      retry: {
        retries: opts.retry?.retries ?? 3,
        retryAfterBaseValue: opts.retry?.retryAfterBaseValue ?? 1000,
        // 429 is left to the throttling plugin, which honours retry-after.
        doNotRetry: [400, 401, 403, 404, 410, 422, 429, 451],
      },
      throttle: {
        ...throttleGroups,
        // Octokit keys its pacing of writes by this id, per process. GitHub counts writes and
        // its secondary limits per installation: one installation's comments must not wait
        // behind another's.
        id: installationId === undefined ? 'app' : `installation-${installationId}`,
        retryAfterBaseValue: opts.throttle?.retryAfterBaseValue ?? 1000,
        fallbackSecondaryRateRetryAfter: opts.throttle?.fallbackSecondaryRateRetryAfter ?? 60,
        onSecondaryRateLimit: (retryAfter, options, _octokit, retryCount) => {
          const again = retryCount < (opts.throttle?.retries ?? 3);
          log.warn(
            { route: `${options.method} ${options.url}`, retryAfter, retryCount, again },
            'GitHub secondary rate limit',
          );
          if (again) opts.onRateLimitWait?.('secondary', retryAfter);
          return again;
        },
        onRateLimit: (retryAfter, options, _octokit, retryCount) => {
          const again =
            retryCount < (opts.throttle?.retries ?? 3) &&
            retryAfter <= (opts.throttle?.maxRateLimitWaitSeconds ?? 60);
          log.warn(
            { route: `${options.method} ${options.url}`, retryAfter, retryCount, again },
            'GitHub rate limit',
          );
          if (again) opts.onRateLimitWait?.('primary', retryAfter);
          return again;
        },
      },
    });
    logRequests(octokit, log);
    return octokit;
  };

  const appOctokit = makeClient(logger);
  let botLogin: Promise<string> | undefined;
  const scopedToken = async (installationId: number, scope: TokenScope): Promise<string> => {
    const auth = (await appOctokit.auth({
      type: 'installation',
      installationId,
      repositoryNames: [...scope.repositories],
      permissions: { ...scope.permissions },
    })) as { token: string };
    return auth.token;
  };

  return {
    appId: opts.appId,
    apiUrl,
    appOctokit,
    installationOctokit: (installationId, log = logger, scope) =>
      makeClient(log.child({ installationId }), installationId, scope),
    async installationToken(installationId, scope) {
      if (scope) return scopedToken(installationId, scope);
      const auth = (await appOctokit.auth({ type: 'installation', installationId })) as { token: string };
      return auth.token;
    },
    botLogin() {
      botLogin ??= appOctokit.rest.apps.getAuthenticated().then(
        ({ data }) => {
          if (!data?.slug) throw new Error('GET /app returned no slug');
          return `${data.slug}[bot]`;
        },
        (error: unknown) => {
          botLogin = undefined;
          throw error;
        },
      );
      return botLogin;
    },
  };
}

/** Replacement write/notification pacing groups, or none to keep Octokit's defaults. */
function writeGroups(intervalMs: number | undefined): {
  write?: Bottleneck.Group;
  notifications?: Bottleneck.Group;
} {
  if (intervalMs === undefined) return {};
  return {
    write: new Bottleneck.Group({ maxConcurrent: 1, minTime: intervalMs }),
    notifications: new Bottleneck.Group({ maxConcurrent: 1, minTime: intervalMs }),
  };
}
