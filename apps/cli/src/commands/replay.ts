import { randomUUID } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { text } from 'node:stream/consumers';
import { DEFAULT_WEBHOOK_PATH, optionalAppIdEnv, parseEnv, webhookEndpointEnv } from '@evalbot/config';
import type { Command } from 'commander';
import { z } from 'zod';
import { type CliContext, CliError } from '../cli-context.ts';
import { type ReplayDelivery, sendDelivery } from '../replay/send-delivery.ts';

interface ReplayOptions {
  event: string;
  url?: string;
  secret?: string;
  deliveryId?: string;
}

async function readPayload(path: string, cwd: string): Promise<string> {
  try {
    return path === '-' ? await text(process.stdin) : await readFile(resolve(cwd, path), 'utf8');
  } catch (error) {
    throw new CliError(`cannot read the payload ${path}: ${(error as Error).message}`);
  }
}

/** `http://127.0.0.1:$PORT$WEBHOOK_PATH`, with the gateway's defaults (`webhookEndpointEnv`). */
function gatewayUrlOf(ctx: CliContext): string {
  const { PORT, WEBHOOK_PATH } = parseEnv(z.object(webhookEndpointEnv), ctx.env);
  return `http://127.0.0.1:${PORT}${WEBHOOK_PATH}`;
}

/** `evalbot replay PAYLOAD.json --event NAME`: sign a webhook delivery and send it to a gateway. */
export function registerReplay(program: Command, ctx: CliContext): void {
  program
    .command('replay')
    .summary('send a signed webhook delivery to a gateway')
    .description(
      'Sign a webhook payload with the webhook secret, as GitHub does (X-Hub-Signature-256), and POST it ' +
        'to a gateway with the X-GitHub-Event and X-GitHub-Delivery headers. Prints the status and body ' +
        'of the answer; exits 1 unless it is 2xx.\n\nUse it to replay a delivery copied from the App ' +
        "settings' Advanced tab, or one of @octokit/webhooks-examples.",
    )
    .argument('<payload>', 'the JSON payload file ("-" reads standard input)')
    .requiredOption('-e, --event <name>', 'the event name (X-GitHub-Event), e.g. pull_request')
    .option(
      '-u, --url <url>',
      `the gateway's webhook URL (default: http://127.0.0.1:$PORT$WEBHOOK_PATH, i.e. port 3000, ${DEFAULT_WEBHOOK_PATH})`,
    )
    .option('-s, --secret <secret>', 'the webhook secret (default: $WEBHOOK_SECRET)')
    .option('-d, --delivery-id <id>', 'the X-GitHub-Delivery id (default: a new UUID)')
    .addHelpText(
      'after',
      '\nExample:\n  evalbot replay fixtures/labeled.json --event pull_request --url http://localhost:3000/api/github/webhooks --secret "$WEBHOOK_SECRET"',
    )
    .action(async (payloadPath: string, opts: ReplayOptions) => {
      const secret = opts.secret ?? ctx.env.WEBHOOK_SECRET;
      if (!secret) throw new CliError('no webhook secret: pass --secret or set WEBHOOK_SECRET');
      const url = opts.url ?? gatewayUrlOf(ctx);
      try {
        new URL(url);
      } catch {
        throw new CliError(
          `--url "${url}" is not a URL; use e.g. http://localhost:3000${DEFAULT_WEBHOOK_PATH}`,
        );
      }

      const body = await readPayload(payloadPath, ctx.cwd);
      try {
        JSON.parse(body);
      } catch (error) {
        throw new CliError(`${payloadPath} is not JSON: ${(error as Error).message}`);
      }

      const delivery: ReplayDelivery = {
        event: opts.event,
        id: opts.deliveryId ?? randomUUID(),
        // The App's id when APP_ID is set; GitHub's headers always name one.
        appId: parseEnv(z.object(optionalAppIdEnv), ctx.env).APP_ID ?? 1,
        // Sent as read: the signature covers these exact bytes.
        body,
      };
      let response: { status: number; body: string };
      try {
        response = await sendDelivery(url, delivery, secret);
      } catch (error) {
        const cause = (error as Error & { cause?: { code?: string; message?: string } }).cause;
        throw new CliError(
          `cannot reach ${url}: ${cause?.code ?? cause?.message ?? (error as Error).message} (is the gateway running?)`,
        );
      }

      ctx.stdout.write(`delivery ${delivery.id} (${opts.event}) → ${url}\n`);
      ctx.stdout.write(`HTTP ${response.status}\n`);
      if (response.body) ctx.stdout.write(`${response.body}${response.body.endsWith('\n') ? '' : '\n'}`);
      if (response.status < 200 || response.status > 299) {
        throw new CliError(`the gateway answered ${response.status}`, 1);
      }
    });
}
