import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseEnv } from 'node:util';
import { loadGitHubAppCredentials } from '@evalbot/config';
import { type GitHubSim, startGitHubSim } from '@evalbot/github-sim';
import { browserSkipReason, launchChromium, titleSkippedIf, waitFor } from '@evalbot/test-utils';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { composeConfig } from '../../../tooling/repo-checks/test/deploy-files.ts';
// The compose file as docker-compose reads it, and the apps' own configuration loaders: setup's
// promise is that `docker compose up` follows.
import { loadConfig as loadDashboardConfig } from '../../dashboard/src/config.ts';
import { loadConfig as loadGatewayConfig } from '../../gateway/src/config.ts';
import { CliError } from '../src/cli-context.ts';
import { runCli } from '../src/program.ts';
import { APP_EVENTS, APP_PERMISSIONS, type AppManifest } from '../src/setup/app-manifest.ts';
import { completeAppSetup } from '../src/setup/complete-app-setup.ts';
import { SERVICE_SECRETS } from '../src/setup/service-secrets.ts';
import { captureCli } from './capture-cli.ts';

const WEBHOOK_URL = 'https://evalbot.example.com/api/github/webhooks';

const unescapeHtml = (text: string) =>
  text
    .replace(/&quot;/g, '"')
    .replace(/&#39;/g, "'")
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&amp;/g, '&');

/** The form the setup page shows: where it posts and the manifest it carries. */
async function readSetupForm(pageUrl: string) {
  const html = await (await fetch(pageUrl)).text();
  const action = unescapeHtml(/<form method="post" action="([^"]+)"/.exec(html)?.[1] ?? '');
  const manifest = JSON.parse(unescapeHtml(/name="manifest" value="([^"]+)"/.exec(html)?.[1] ?? '{}'));
  return { action, manifest: manifest as AppManifest };
}

/** What the browser does when the user presses the button: post the form, follow GitHub's redirect. */
async function submitLikeABrowser(action: string, manifest: AppManifest) {
  const created = await fetch(action, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ manifest: JSON.stringify(manifest) }).toString(),
    redirect: 'manual',
  });
  expect(created.status).toBe(302);
  const callback = await fetch(created.headers.get('location') ?? '');
  return { status: callback.status, html: await callback.text() };
}

describe('evalbot setup', () => {
  let sim: GitHubSim;
  let dir: string;

  beforeAll(async () => {
    sim = await startGitHubSim({ webhookSecret: 'sim-webhook-secret' });
  });
  afterAll(async () => {
    await sim?.close();
  });
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'evalbot-setup-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  function startSetup(args: string[], signal?: AbortSignal) {
    const cli = captureCli({
      cwd: dir,
      env: { GITHUB_URL: sim.gitUrl, GITHUB_API_URL: sim.url },
      ...(signal ? { signal } : {}),
    });
    const exit = runCli(['setup', '--webhook-url', WEBHOOK_URL, ...args], cli.ctx);
    const pageUrl = waitFor(() => /Open (http:\/\/127\.0\.0\.1:\d+\/) /.exec(cli.stderr())?.[1], {
      what: 'the setup page URL on stderr',
    });
    return { cli, exit, pageUrl };
  }

  it('creates the App from the manifest and writes its credentials into .env, keeping other lines', async () => {
    await writeFile(join(dir, '.env'), '# mine\nREDIS_URL=redis://redis:6379\nAPP_ID=1\n');
    const setup = startSetup([]);
    const { action, manifest } = await readSetupForm(await setup.pageUrl);

    expect(action).toMatch(new RegExp(`^${sim.gitUrl}/settings/apps/new\\?state=[0-9a-f]{32}$`));
    expect(manifest).toMatchObject({
      name: 'evalbot',
      url: 'https://evalbot.example.com',
      hook_attributes: { url: WEBHOOK_URL, active: true },
      redirect_url: `${new URL(await setup.pageUrl).origin}/callback`,
      public: false,
      default_permissions: {
        pull_requests: 'write',
        issues: 'write',
        checks: 'write',
        contents: 'read',
        metadata: 'read',
      },
    });
    expect([...manifest.default_events].sort()).toEqual(['issue_comment', 'pull_request']);

    const callback = await submitLikeABrowser(action, manifest);
    expect(callback.status).toBe(200);
    expect(callback.html).toContain(`App id ${sim.appId}`);
    expect(await setup.exit).toBe(0);
    expect(setup.cli.stdout()).toContain(`Created the GitHub App "evalbot" (id ${sim.appId})`);
    expect(setup.cli.stdout()).toContain('/installations/new');

    const envText = await readFile(join(dir, '.env'), 'utf8');
    expect(envText.startsWith('# mine\nREDIS_URL=redis://redis:6379\n')).toBe(true);
    const env = parseEnv(envText);
    expect(env).toMatchObject({ APP_ID: String(sim.appId), WEBHOOK_SECRET: 'sim-webhook-secret' });
    // The key in a file of its own beside .env, which compose mounts into the worker.
    const pemPath = join(dir, 'github-app.private-key.pem');
    expect(env.PRIVATE_KEY_PATH).toBe(pemPath);
    expect(env.PRIVATE_KEY).toBeUndefined();
    expect((await stat(pemPath)).mode & 0o777).toBe(0o600);
    expect(loadGitHubAppCredentials(env).privateKey).toBe(sim.privateKey?.trim());
    expect(setup.cli.stdout()).toContain(`Wrote the private key to ${pemPath} (mode 0600)`);
    // What `docker compose up` needs besides: a password per Redis user, a dashboard token.
    for (const name of SERVICE_SECRETS) expect(env[name], name).toMatch(/^[0-9a-f]{48}$/);
    expect(new Set(SERVICE_SECRETS.map((name) => env[name])).size).toBe(SERVICE_SECRETS.length);
    expect(setup.cli.stdout()).toContain('docker compose up -d');
    expect((await stat(join(dir, '.env'))).mode & 0o777).toBe(0o600);
    expect(sim.requestsMatching('POST /app-manifests/:code/conversions')).toHaveLength(1);
  });

  it('creates an organization App and writes the key to a 0600 PEM file named by PRIVATE_KEY_PATH', async () => {
    await writeFile(join(dir, '.env'), 'PRIVATE_KEY="old"\n');
    const setup = startSetup([
      '--org',
      'octo-org',
      '--name',
      'evalbot-staging',
      '--private-key-file',
      'keys/app.pem',
    ]);
    const { action, manifest } = await readSetupForm(await setup.pageUrl);
    expect(action).toContain('/organizations/octo-org/settings/apps/new?state=');
    expect(manifest.name).toBe('evalbot-staging');

    expect((await submitLikeABrowser(action, manifest)).status).toBe(200);
    expect(await setup.exit).toBe(0);

    const pemPath = join(dir, 'keys', 'app.pem');
    expect((await readFile(pemPath, 'utf8')).trim()).toBe(sim.privateKey?.trim());
    expect((await stat(pemPath)).mode & 0o777).toBe(0o600);
    const env = parseEnv(await readFile(join(dir, '.env'), 'utf8'));
    expect(env.PRIVATE_KEY).toBeUndefined();
    expect(env.PRIVATE_KEY_PATH).toBe(pemPath);
    expect(loadGitHubAppCredentials(env).appId).toBe(sim.appId);
  });

  it('refuses a callback whose state is not its own, and writes nothing when cancelled', async () => {
    const interrupt = new AbortController();
    const setup = startSetup([], interrupt.signal);
    const pageUrl = await setup.pageUrl;
    const forged = await fetch(
      `${pageUrl}callback?code=${sim.registerManifestCode()}&state=${'0'.repeat(32)}`,
    );
    expect(forged.status).toBe(400);

    interrupt.abort();
    expect(await setup.exit).toBe(130);
    expect(setup.cli.stderr()).toContain('setup cancelled; nothing was written');
    expect(existsSync(join(dir, '.env'))).toBe(false);
    await expect(fetch(pageUrl)).rejects.toThrow();
  });

  it('explains a code GitHub does not know', async () => {
    const attempt = completeAppSetup({
      apiUrl: sim.url,
      code: 'expired-code',
      envFile: join(dir, '.env'),
      privateKeyFile: join(dir, 'app.pem'),
    });
    await expect(attempt).rejects.toBeInstanceOf(CliError);
    await expect(attempt).rejects.toThrow(
      /HTTP 404 \(the code is unknown, already used or more than an hour old/,
    );
    expect(existsSync(join(dir, '.env'))).toBe(false);
    expect(existsSync(join(dir, 'app.pem'))).toBe(false);
  });

  it('converts a code registered with the GitHub stand-in', async () => {
    const code = sim.registerManifestCode({ name: 'evalbot-direct' });
    const done = await completeAppSetup({
      apiUrl: sim.url,
      code,
      envFile: join(dir, '.env'),
      privateKeyFile: join(dir, 'app.pem'),
    });
    expect(done.app).toMatchObject({ id: sim.appId, name: 'evalbot-direct' });
    expect(done.keys).toEqual([
      'APP_ID',
      'PRIVATE_KEY_PATH',
      'WEBHOOK_SECRET',
      'REDIS_GATEWAY_PASSWORD',
      'REDIS_WORKER_PASSWORD',
      'REDIS_DASHBOARD_PASSWORD',
      'DASHBOARD_TOKEN',
    ]);
  });

  it('keeps the Redis passwords and the dashboard token .env already has when run again', async () => {
    await writeFile(
      join(dir, '.env'),
      'REDIS_GATEWAY_PASSWORD=kept-gateway\nREDIS_WORKER_PASSWORD=kept-worker\nDASHBOARD_TOKEN=kept-token-0123456789\n',
    );
    const code = sim.registerManifestCode({ name: 'evalbot-again' });
    await completeAppSetup({
      apiUrl: sim.url,
      code,
      envFile: join(dir, '.env'),
      privateKeyFile: join(dir, 'k.pem'),
    });
    const env = parseEnv(await readFile(join(dir, '.env'), 'utf8'));
    expect(env).toMatchObject({
      REDIS_GATEWAY_PASSWORD: 'kept-gateway',
      REDIS_WORKER_PASSWORD: 'kept-worker',
      DASHBOARD_TOKEN: 'kept-token-0123456789',
    });
    // Only the missing one is made.
    expect(env.REDIS_DASHBOARD_PASSWORD).toMatch(/^[0-9a-f]{48}$/);
  });

  it('writes a .env that docker compose up starts every service from: no missing variable, no dashboard crash loop', async () => {
    const code = sim.registerManifestCode({ name: 'evalbot-compose' });
    const pemPath = join(dir, 'github-app.private-key.pem');
    await completeAppSetup({ apiUrl: sim.url, code, envFile: join(dir, '.env'), privateKeyFile: pemPath });
    const envText = await readFile(join(dir, '.env'), 'utf8');
    const env = parseEnv(envText);
    // Compose itself refuses a .env without the Redis passwords or the key file.
    const { services, secrets } = await composeConfig(['docker-compose.yml'], envText);
    // Each app's own configuration, as its container gets it, is accepted.
    const dashboard = loadDashboardConfig(services.dashboard.environment);
    expect(dashboard.credentials.token).toBe(env.DASHBOARD_TOKEN);
    expect(loadGatewayConfig(services.gateway.environment).webhookSecret).toBe('sim-webhook-secret');
    // The worker reads the key from the mounted file, which is the one setup wrote.
    expect(secrets['github-app-private-key'].file).toBe(pemPath);
    const workerEnv = { ...services.worker.environment, PRIVATE_KEY_PATH: pemPath };
    expect(loadGitHubAppCredentials(workerEnv).appId).toBe(sim.appId);
    // Each app's REDIS_URL carries the password its Redis user is started with.
    const command = (services.redis.command as string[]).map(String);
    for (const app of ['gateway', 'worker', 'dashboard']) {
      const password = env[`REDIS_${app.toUpperCase()}_PASSWORD`] ?? '';
      expect(services[app].environment.REDIS_URL, app).toBe(`redis://${app}:${password}@redis:6379`);
      expect(command[command.indexOf(app) + 2], app).toBe(`>${password}`);
    }
  });

  it.skipIf(browserSkipReason() !== undefined)(
    titleSkippedIf('completes in a real browser: button, GitHub, back to the callback', browserSkipReason()),
    async () => {
      const setup = startSetup([]);
      const browser = await launchChromium();
      try {
        const page = await browser.newPage();
        await page.goto(await setup.pageUrl);
        await page.getByRole('button', { name: /Create the GitHub App/ }).click();
        await page.getByRole('heading', { name: /Done: evalbot/ }).waitFor();
        expect(await page.getByRole('link', { name: 'install the App' }).getAttribute('href')).toMatch(
          /\/installations\/new$/,
        );
      } finally {
        await browser.close();
      }
      expect(await setup.exit).toBe(0);
      expect(parseEnv(await readFile(join(dir, '.env'), 'utf8')).APP_ID).toBe(String(sim.appId));
    },
  );
});

describe('app.yml', () => {
  it('asks for the same permissions and events as evalbot setup', async () => {
    const { parse } = await import('yaml');
    const appYml = parse(await readFile(new URL('../../../app.yml', import.meta.url), 'utf8'));
    expect(appYml.default_permissions).toEqual(APP_PERMISSIONS);
    expect([...appYml.default_events].sort()).toEqual([...APP_EVENTS].sort());
    expect(appYml.hook_attributes?.url).toBeTruthy();
    expect(appYml.name).toBe('evalbot');
  });
});

describe('the files evalbot setup writes into a checkout', () => {
  it('are ignored by git, so `git add -A` never commits the App key, the Redis passwords or the dashboard token', async () => {
    const { execFileSync } = await import('node:child_process');
    const root = new URL('../../../', import.meta.url).pathname;
    for (const file of ['.env', 'github-app.private-key.pem', 'keys/rotated.pem']) {
      // check-ignore exits 1 for a path git would track.
      const ignored = execFileSync('git', ['check-ignore', '--no-index', '-v', file], {
        cwd: root,
        encoding: 'utf8',
      });
      expect(ignored).toContain(file);
    }
  });
});
