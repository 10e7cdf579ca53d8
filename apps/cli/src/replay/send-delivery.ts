import { createHmac } from 'node:crypto';

/** A webhook delivery as `evalbot replay` sends it. */
export interface ReplayDelivery {
  /** `X-GitHub-Event`, e.g. `pull_request`. */
  event: string;
  /** `X-GitHub-Delivery`. */
  id: string;
  /** `X-GitHub-Hook-Installation-Target-ID`: the App's id. */
  appId: number;
  /** The payload's exact bytes: the signature covers them. */
  body: string;
}

/**
 * `X-Hub-Signature-256` as GitHub computes it: `sha256=` and the hex HMAC-SHA256 of the body
 * with the webhook secret (docs.github.com, "Validating webhook deliveries").
 */
export function signWebhookBody(body: string, secret: string): string {
  return `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`;
}

/** The headers GitHub sends with an App's webhook delivery, signed with `secret`. */
export function deliveryHeaders(delivery: ReplayDelivery, secret: string): Record<string, string> {
  return {
    'Content-Type': 'application/json',
    'User-Agent': 'GitHub-Hookshot/evalbot-replay',
    'X-GitHub-Event': delivery.event,
    'X-GitHub-Delivery': delivery.id,
    'X-GitHub-Hook-ID': '1',
    'X-GitHub-Hook-Installation-Target-ID': String(delivery.appId),
    'X-GitHub-Hook-Installation-Target-Type': 'integration',
    'X-Hub-Signature-256': signWebhookBody(delivery.body, secret),
    // The legacy SHA-1 header GitHub still sends beside the SHA-256 one.
    'X-Hub-Signature': `sha1=${createHmac('sha1', secret).update(delivery.body).digest('hex')}`,
  };
}

/** POST a signed delivery to `url`, as GitHub does; resolves with the status and body text. */
export async function sendDelivery(
  url: string,
  delivery: ReplayDelivery,
  secret: string,
): Promise<{ status: number; body: string }> {
  const response = await fetch(url, {
    method: 'POST',
    headers: deliveryHeaders(delivery, secret),
    body: delivery.body,
    signal: AbortSignal.timeout(10_000),
  });
  return { status: response.status, body: await response.text() };
}
