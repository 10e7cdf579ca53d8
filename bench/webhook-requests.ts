import { randomBytes, randomUUID } from 'node:crypto';
import { buildDelivery, deliveryHeaders, type WebhookDelivery } from '@evalbot/github-sim';
import type { LoadRequest } from './load-test.ts';

const BASE_SHA = 'b'.repeat(40);
let nextPullNumber = 1;

async function signed(delivery: WebhookDelivery, secret: string, path: string): Promise<LoadRequest> {
  return { path, headers: await deliveryHeaders(delivery, secret), body: Buffer.from(delivery.body) };
}

/**
 * A `pull_request` `opened` delivery without the evaluate label: the gateway verifies and
 * routes it, then answers 202 ignored without touching Redis, so the same request can repeat.
 */
export function ignoredRequest(secret: string, path: string): Promise<LoadRequest> {
  return signed(
    buildDelivery({
      event: 'pull_request',
      action: 'opened',
      pullRequest: { number: 1, headSha: 'a'.repeat(40), baseSha: BASE_SHA },
    }),
    secret,
    path,
  );
}

/**
 * `count` distinct `pull_request` `labeled` (evaluate) deliveries, each for its own PR number
 * with its own head SHA and delivery id, so the gateway enqueues every one of them (the same
 * delivery id or the same PR, head and base would be answered `duplicate`).
 */
export async function enqueuedRequests(count: number, secret: string, path: string): Promise<LoadRequest[]> {
  const requests: LoadRequest[] = [];
  for (let i = 0; i < count; i++) {
    const number = nextPullNumber++;
    const delivery = buildDelivery({
      event: 'pull_request',
      action: 'labeled',
      label: 'evaluate',
      id: randomUUID(),
      pullRequest: { number, headSha: randomBytes(20).toString('hex'), baseSha: BASE_SHA },
    });
    requests.push(await signed(delivery, secret, path));
  }
  return requests;
}

/** Hands out `requests` in order, starting over at the end; `taken` counts what was handed out. */
export function cycle(requests: LoadRequest[]): { next: () => LoadRequest; taken: () => number } {
  let index = 0;
  return {
    next: () => {
      const request = requests[index % requests.length];
      index += 1;
      if (!request) throw new Error('no requests to send');
      return request;
    },
    taken: () => index,
  };
}
