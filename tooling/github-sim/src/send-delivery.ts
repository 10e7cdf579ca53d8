import { createHmac } from 'node:crypto';
import { sign } from '@octokit/webhooks-methods';
import type { WebhookDelivery } from './webhook-deliveries.ts';

/** The signature headers GitHub computes over `body` with the webhook secret. */
export async function signDelivery(
  body: string,
  secret: string,
): Promise<{ 'X-Hub-Signature-256': string; 'X-Hub-Signature': string }> {
  return {
    'X-Hub-Signature-256': await sign(secret, body),
    // The legacy SHA-1 header GitHub still sends beside the SHA-256 one.
    'X-Hub-Signature': `sha1=${createHmac('sha1', secret).update(body).digest('hex')}`,
  };
}

/** Every header GitHub sends with a delivery, signed with `secret`. */
export async function deliveryHeaders(
  delivery: WebhookDelivery,
  secret: string,
): Promise<Record<string, string>> {
  return {
    'Content-Type': 'application/json',
    'User-Agent': 'GitHub-Hookshot/8d5e4a1',
    'X-GitHub-Event': delivery.event,
    'X-GitHub-Delivery': delivery.id,
    'X-GitHub-Hook-ID': String(delivery.hookId),
    'X-GitHub-Hook-Installation-Target-ID': String(delivery.appId),
    'X-GitHub-Hook-Installation-Target-Type': 'integration',
    ...(await signDelivery(delivery.body, secret)),
  };
}

/** POST a signed delivery to `url`, as GitHub does; resolves with the status and body text. */
export async function sendDelivery(
  url: string,
  delivery: WebhookDelivery,
  secret: string,
): Promise<{ status: number; body: string }> {
  const response = await fetch(url, {
    method: 'POST',
    headers: await deliveryHeaders(delivery, secret),
    body: delivery.body,
    signal: AbortSignal.timeout(10_000),
  });
  return { status: response.status, body: await response.text() };
}
