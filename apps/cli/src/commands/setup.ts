import { dirname, resolve } from 'node:path';
import { githubEndpointEnv, parseEnv } from '@evalbot/config';
import { type Command, InvalidArgumentError, Option } from 'commander';
import { z } from 'zod';
import { type CliContext, CliError } from '../cli-context.ts';
import { buildAppManifest } from '../setup/app-manifest.ts';
import { type CompletedSetup, completeAppSetup } from '../setup/complete-app-setup.ts';
import { startSetupServer } from '../setup/setup-server.ts';

interface SetupOptions {
  webhookUrl: string;
  name: string;
  org?: string;
  homepage?: string;
  public: boolean;
  host: string;
  port: number;
  envFile: string;
  privateKeyFile?: string;
  githubUrl?: string;
  githubApiUrl?: string;
}

function httpUrl(value: string): string {
  try {
    const url = new URL(value);
    if (url.protocol === 'http:' || url.protocol === 'https:') return url.toString();
  } catch {}
  throw new InvalidArgumentError('must be an http(s) URL');
}

function port(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0 || n > 65_535)
    throw new InvalidArgumentError('must be a port number (0 = any free port)');
  return n;
}

function appName(value: string): string {
  if (value.length < 1 || value.length > 34)
    throw new InvalidArgumentError('must be 1 to 34 characters (a GitHub limit)');
  return value;
}

/** `evalbot setup`: create the GitHub App from a manifest and write its credentials to .env. */
export function registerSetup(program: Command, ctx: CliContext): void {
  program
    .command('setup')
    .summary('create the GitHub App and write its credentials to .env')
    .description(
      "Create evalbot's GitHub App with GitHub's App-manifest flow: open the page this command serves " +
        'on loopback, confirm on GitHub, and GitHub sends you back here. evalbot then writes the private ' +
        'key to a 0600 file, and APP_ID, PRIVATE_KEY_PATH, WEBHOOK_SECRET and, unless .env has them, a ' +
        'password per Redis user and a DASHBOARD_TOKEN to .env, keeping its other lines: `docker compose ' +
        'up` can follow.\n\n' +
        'Permissions: pull requests, issues and checks write; contents and metadata read. ' +
        'Events: pull_request, issue_comment. GITHUB_URL and GITHUB_API_URL select GitHub Enterprise Server.\n\n' +
        'To create the App by hand instead, see docs/github-app-setup.md and app.yml.',
    )
    .requiredOption(
      '-w, --webhook-url <url>',
      "where GitHub sends webhooks: the gateway's public URL and WEBHOOK_PATH",
      httpUrl,
    )
    .addOption(
      new Option('-n, --name <name>', 'the App name, unique on GitHub').default('evalbot').argParser(appName),
    )
    .option('-o, --org <org>', 'create the App in this organization instead of your account')
    .option('--homepage <url>', "the App's homepage (default: the webhook URL's origin)", httpUrl)
    .option('--public', 'let other accounts install the App', false)
    .option('--host <host>', 'address of the local setup page', '127.0.0.1')
    .addOption(
      new Option('-p, --port <port>', 'port of the local setup page')
        .default(0, 'any free port')
        .argParser(port),
    )
    .option('--env-file <path>', 'the .env file to update', '.env')
    .option(
      '--private-key-file <path>',
      'the PEM file (mode 0600) to write the key to, named by PRIVATE_KEY_PATH in .env (default: github-app.private-key.pem beside the .env file)',
    )
    .option('--github-url <url>', 'GitHub web URL (default: $GITHUB_URL, else https://github.com)', httpUrl)
    .option(
      '--github-api-url <url>',
      'GitHub API URL (default: $GITHUB_API_URL, else https://api.github.com)',
      httpUrl,
    )
    .action(async (opts: SetupOptions) => {
      const endpoints = parseEnv(z.object(githubEndpointEnv), {
        GITHUB_URL: opts.githubUrl ?? ctx.env.GITHUB_URL,
        GITHUB_API_URL: opts.githubApiUrl ?? ctx.env.GITHUB_API_URL,
      });
      const envFile = resolve(ctx.cwd, opts.envFile);
      const privateKeyFile = opts.privateKeyFile
        ? resolve(ctx.cwd, opts.privateKeyFile)
        : resolve(dirname(envFile), 'github-app.private-key.pem');

      const server = await startSetupServer({
        host: opts.host,
        port: opts.port,
        githubUrl: endpoints.GITHUB_URL,
        ...(opts.org ? { org: opts.org } : {}),
        buildManifest: (redirectUrl) =>
          buildAppManifest({
            name: opts.name,
            homepageUrl: opts.homepage ?? new URL(opts.webhookUrl).origin,
            webhookUrl: opts.webhookUrl,
            redirectUrl,
            public: opts.public,
          }),
        complete: (code) =>
          completeAppSetup({
            apiUrl: endpoints.GITHUB_API_URL,
            code,
            envFile,
            privateKeyFile,
          }),
      });
      ctx.stderr.write(`Open ${server.url} in a browser to create the GitHub App (Ctrl-C to cancel).\n`);

      let done: CompletedSetup;
      try {
        done = await Promise.race([
          server.result,
          new Promise<never>((_resolve, reject) => {
            const stop = () => reject(new CliError('setup cancelled; nothing was written', 130));
            if (ctx.signal.aborted) stop();
            ctx.signal.addEventListener('abort', stop, { once: true });
          }),
        ]);
      } finally {
        await server.close();
      }

      const { app } = done;
      ctx.stdout.write(`Created the GitHub App "${app.name}" (id ${app.id}): ${app.htmlUrl}\n`);
      ctx.stdout.write(`Wrote ${done.keys.join(', ')} to ${done.envFile}\n`);
      ctx.stdout.write(`Wrote the private key to ${done.privateKeyFile} (mode 0600)\n`);
      if (!app.webhookSecret) {
        ctx.stdout.write(
          `GitHub returned no webhook secret: set one in the App settings (${app.htmlUrl}) and in WEBHOOK_SECRET.\n`,
        );
      }
      ctx.stdout.write(
        `Next: install the App on the repositories to evaluate: ${app.htmlUrl}/installations/new\n` +
          'Then start evalbot: docker compose up -d\n',
      );
    });
}
