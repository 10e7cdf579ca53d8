import { createPrivateKey, createPublicKey, type KeyObject, randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Logger } from '@evalbot/logger';
import { createApiRouter } from './api-router.ts';
import { appJson, installationJson } from './app-json.ts';
import { FaultInjector, type FaultSpec, type InjectedFault } from './faults.ts';
import { createGitRepos } from './git-repos.ts';
import { type HookDeliveryAttempt, hookDeliveriesOf } from './hook-delivery-log.ts';
import { generateAppKeyPair } from './key-pair.ts';
import type { Permissions } from './permissions.ts';
import { checkRunJson, commentJson, pullRequestJson, reactionJson } from './pull-request-json.ts';
import { RateLimits } from './rate-limits.ts';
import { repositoryJson, userJson } from './repository-json.ts';
import { type RecordedRequest, RequestLog } from './request-log.ts';
import { appRoutes } from './routes-app.ts';
import { checkRunRoutes } from './routes-check-runs.ts';
import { contentRoutes } from './routes-contents.ts';
import { hookDeliveryRoutes } from './routes-hook-deliveries.ts';
import { issueRoutes } from './routes-issues.ts';
import { repoRoutes } from './routes-repos.ts';
import { createScenario, type Scenario } from './scenario.ts';
import { API_PREFIX, createSimHandler } from './sim-server.ts';
import { type SimApp, SimState, type SimUrls } from './sim-state.ts';
import { registerManifestCode } from './web-routes.ts';
import type { WebhookDelivery } from './webhook-deliveries.ts';

export interface GitHubSimOptions {
  /** 0 (default) picks a free port. */
  port?: number;
  host?: string;
  appId?: number;
  /** The App's slug; its bot account is `<slug>[bot]`. */
  slug?: string;
  name?: string;
  clientId?: string;
  /** The App's private key (PKCS#1 or PKCS#8 PEM); its public half verifies JWTs. */
  privateKey?: string;
  /** Or only the public key (then manifest conversions cannot return a `pem`). Neither: a pair is generated. */
  publicKey?: string;
  webhookSecret?: string;
  /** The App owner's login. */
  owner?: string;
  /** How long installation tokens live (GitHub: one hour). */
  tokenLifetimeMs?: number;
  /** Milliseconds since the epoch; JWT checks, token expiry and timestamps follow it. */
  clock?: () => number;
  /** Where bare repositories live; default a temp directory removed by `close()`. */
  rootDir?: string;
  logger?: Logger;
}

/** A running GitHub stand-in. */
export type GitHubSim = Omit<Scenario, 'repoOf' | 'pullOf'> & {
  /** REST API base, for `GITHUB_API_URL` (ends in `/api/v3`, like GitHub Enterprise Server). */
  url: string;
  /** Web and clone base, for `GITHUB_URL`; repositories clone from `<gitUrl>/<owner>/<repo>.git`. */
  gitUrl: string;
  port: number;
  appId: number;
  slug: string;
  /** `<slug>[bot]`: the author of everything the App posts. */
  botLogin: string;
  clientId: string;
  /** Known unless the sim was started with only a public key. */
  privateKey: string | undefined;
  publicKey: string;
  /** The App's webhook secret (from the options, a manifest conversion, or generated). */
  readonly webhookSecret: string;
  /** Every request so far, oldest first (authorization headers left out). */
  readonly requests: readonly RecordedRequest[];
  /** Requests matching `"METHOD /pattern"` (API paths relative to the API base). */
  requestsMatching(route: string): RecordedRequest[];
  clearRequests(): void;
  /** Make the next `times` requests matching `route` fail, hit a rate limit, or wait. */
  injectFault(spec: FaultSpec): InjectedFault;
  clearFaults(): void;
  /** Comments on a PR, as the REST API shows them, oldest first. */
  comments(owner: string, repo: string, number: number): ReturnType<typeof commentJson>[];
  /** Check runs of a repository (optionally of one commit), oldest first. */
  checkRuns(owner: string, repo: string, headSha?: string): ReturnType<typeof checkRunJson>[];
  reactions(commentId: number): ReturnType<typeof reactionJson>[];
  pullRequestJson(owner: string, repo: string, number: number): ReturnType<typeof pullRequestJson>;
  repositoryJson(owner: string, repo: string): ReturnType<typeof repositoryJson>;
  installationJson(installationId: number): ReturnType<typeof installationJson>;
  userJson(login: string): ReturnType<typeof userJson>;
  appJson(): ReturnType<typeof appJson>;
  /** Register a one-time code for `POST /app-manifests/{code}/conversions`; returns the code. */
  registerManifestCode(opts?: { code?: string; name?: string; url?: string; webhookSecret?: string }): string;
  /** Where webhook deliveries for this App go (read by the delivery helpers). */
  setWebhookTarget(target: { url: string; secret?: string }): void;
  readonly webhookTarget: { url: string; secret: string } | undefined;
  /**
   * Send a delivery to the webhook target as GitHub does and log the attempt (failed ones
   * included: connection refused, 5xx), so `GET /app/hook/deliveries` lists it.
   */
  deliver(delivery: WebhookDelivery): Promise<HookDeliveryAttempt>;
  /** The App's delivery log, newest first. */
  readonly hookDeliveries: readonly HookDeliveryAttempt[];
  /** Resolves once every redelivery asked for so far has been answered. */
  redeliveriesSettled(): Promise<void>;
  /**
   * The App settings' **Generate a private key**: a new key GitHub accepts beside the others
   * (an App may hold several, so a key can be rotated without downtime); returns its PEM.
   */
  generatePrivateKey(): string;
  /** The App settings' **Delete** on a key: JWTs signed with it are refused from now on. */
  deletePrivateKey(privateKeyPem: string): void;
  /** Make every installation token issued so far expire now. */
  expireInstallationTokens(): void;
  /**
   * What an installation grants from now on, as when an owner has not accepted (or takes back)
   * a permission: tokens asking for more are refused (422), live tokens lose what it lost (403).
   */
  setInstallationPermissions(installationId: number, permissions: Permissions): void;
  /** The raw state, for assertions the helpers do not cover. */
  state: SimState;
  close(): Promise<void>;
};

/** Start the GitHub stand-in on loopback. */
export async function startGitHubSim(opts: GitHubSimOptions = {}): Promise<GitHubSim> {
  const clock = opts.clock ?? Date.now;
  const keys = resolveKeys(opts);
  const appId = opts.appId ?? 1;
  const slug = opts.slug ?? 'evalbot';
  const rootDir = opts.rootDir ?? (await mkdtemp(join(tmpdir(), 'github-sim-')));
  const app: SimApp = {
    id: appId,
    slug,
    name: opts.name ?? slug,
    clientId: opts.clientId ?? `Iv1.${randomBytes(8).toString('hex')}`,
    clientSecret: randomBytes(20).toString('hex'),
    webhookSecret: opts.webhookSecret ?? randomBytes(20).toString('hex'),
    owner: { login: opts.owner ?? 'evalbot-dev', id: 9_000_001, type: 'User' },
    bot: { login: `${slug}[bot]`, id: 41_000_000 + appId, type: 'Bot' },
    createdAt: clock(),
    publicKeys: [createPublicKey(keys.publicKey)],
    ...(keys.privateKey ? { privateKeyPem: keys.privateKey } : {}),
  };
  const state = new SimState(app, clock);
  const urls: SimUrls = { api: '', web: '' };
  const git = createGitRepos();
  const faults = new FaultInjector();
  const requests = new RequestLog();
  const gitRoot = join(rootDir, 'repos');
  const handler = createSimHandler({
    state,
    urls,
    settings: { tokenLifetimeMs: opts.tokenLifetimeMs ?? 3_600_000 },
    git,
    gitRoot,
    router: createApiRouter([
      ...appRoutes,
      ...issueRoutes,
      ...repoRoutes,
      ...contentRoutes,
      ...checkRunRoutes,
      ...hookDeliveryRoutes,
    ]),
    faults,
    requests,
    rateLimits: new RateLimits(clock),
    ...(opts.logger ? { logger: opts.logger } : {}),
  });
  const server = createServer(handler);
  const host = opts.host ?? '127.0.0.1';
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, host, () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  urls.web = `http://${host}:${port}`;
  urls.api = `${urls.web}${API_PREFIX}`;
  const { repoOf, pullOf, ...scenario } = createScenario({ state, git, gitRoot, urls });

  return {
    ...scenario,
    url: urls.api,
    gitUrl: urls.web,
    port,
    appId,
    slug,
    botLogin: app.bot.login,
    clientId: app.clientId,
    privateKey: keys.privateKey,
    publicKey: keys.publicKey,
    get webhookSecret() {
      return app.webhookSecret;
    },
    get requests() {
      return requests.entries;
    },
    requestsMatching: (route) => requests.matching(route),
    generatePrivateKey: () => {
      const pair = generateAppKeyPair();
      app.publicKeys.push(createPublicKey(pair.publicKey));
      return pair.privateKey;
    },
    deletePrivateKey: (privateKeyPem) => {
      const spki = (key: KeyObject) => key.export({ type: 'spki', format: 'pem' }).toString();
      const target = spki(createPublicKey(createPrivateKey(privateKeyPem)));
      const kept = app.publicKeys.filter((key) => spki(key) !== target);
      if (kept.length === app.publicKeys.length) throw new Error('github-sim: the App has no such key');
      // GitHub keeps an App from deleting its last key.
      if (kept.length === 0) throw new Error('github-sim: an App must keep at least one private key');
      app.publicKeys.splice(0, app.publicKeys.length, ...kept);
    },
    clearRequests: () => requests.clear(),
    injectFault: (spec) => faults.add(spec),
    clearFaults: () => faults.clear(),
    comments: (owner, repo, number) => {
      const pr = pullOf(owner, repo, number);
      return [...state.comments.values()]
        .filter((c) => c.repo === pr.repo && c.issueNumber === number)
        .sort((a, b) => a.id - b.id)
        .map((c) => commentJson(c, state, urls));
    },
    checkRuns: (owner, repo, headSha) => {
      const target = repoOf(owner, repo);
      return [...state.checkRuns.values()]
        .filter((r) => r.repo === target && (headSha === undefined || r.headSha === headSha))
        .sort((a, b) => a.id - b.id)
        .map((r) => checkRunJson(r, state, urls));
    },
    reactions: (commentId) =>
      (state.comments.get(commentId)?.reactions ?? []).map((r) => reactionJson(r, urls)),
    pullRequestJson: (owner, repo, number) => pullRequestJson(pullOf(owner, repo, number), urls),
    repositoryJson: (owner, repo) => repositoryJson(repoOf(owner, repo), urls),
    installationJson: (installationId) => {
      const installation = state.installations.get(installationId);
      if (!installation) throw new Error(`github-sim: no installation ${installationId}`);
      return installationJson(installation, state, urls);
    },
    userJson: (login) => userJson(state.account(login), urls),
    appJson: () => appJson(app, urls),
    registerManifestCode: (registration = {}) => registerManifestCode(state, registration),
    setWebhookTarget: (target) => {
      state.webhookTarget = { url: target.url, secret: target.secret ?? app.webhookSecret };
    },
    get webhookTarget() {
      return state.webhookTarget;
    },
    deliver: (delivery) => hookDeliveriesOf(state).deliver(delivery),
    get hookDeliveries() {
      return hookDeliveriesOf(state).list();
    },
    redeliveriesSettled: () => hookDeliveriesOf(state).settled(),
    expireInstallationTokens: () => {
      for (const token of state.tokens.values()) token.expiresAt = Math.min(token.expiresAt, clock());
    },
    setInstallationPermissions: (installationId, permissions) => {
      const installation = state.installations.get(installationId);
      if (!installation) throw new Error(`github-sim: no installation ${installationId}`);
      installation.permissions = { ...permissions };
    },
    state,
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      if (!opts.rootDir) await rm(rootDir, { recursive: true, force: true });
    },
  };
}

function resolveKeys(opts: GitHubSimOptions): { privateKey: string | undefined; publicKey: string } {
  if (opts.privateKey) {
    const publicKey = createPublicKey(createPrivateKey(opts.privateKey)).export({
      type: 'spki',
      format: 'pem',
    });
    return { privateKey: opts.privateKey, publicKey: publicKey.toString() };
  }
  if (opts.publicKey) return { privateKey: undefined, publicKey: opts.publicKey };
  return generateAppKeyPair();
}
