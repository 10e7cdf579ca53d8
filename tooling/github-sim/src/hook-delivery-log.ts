import { deliveryHeaders } from './send-delivery.ts';
import type { SimState } from './sim-state.ts';
import type { JsonObject, WebhookDelivery } from './webhook-deliveries.ts';

/** One attempt at handing a delivery over, as `GET /app/hook/deliveries` lists it. */
export interface HookDeliveryAttempt {
  /** This attempt's id (a redelivery gets a new one). */
  id: number;
  /** `X-GitHub-Delivery`: the same for a delivery and its redeliveries. */
  guid: string;
  deliveredAt: number;
  redelivery: boolean;
  /** Seconds. */
  duration: number;
  /** `OK`, `Invalid HTTP Response: 503`, `failed to connect to host`, `timed out`. */
  status: string;
  /** The HTTP status the receiver answered; 0 when none. */
  statusCode: number;
  event: string;
  action: string | null;
  installationId: number | null;
  repositoryId: number | null;
  /** The receiver's answer body (GitHub shows it in the delivery's details); '' when none. */
  responseBody: string;
  /** What was sent, for redeliveries (GitHub redelivers the same payload). */
  delivery: WebhookDelivery;
}

const logs = new WeakMap<SimState, HookDeliveryLog>();

/** The App's delivery log of a sim, created on first use. */
export function hookDeliveriesOf(state: SimState): HookDeliveryLog {
  let log = logs.get(state);
  if (!log) {
    log = new HookDeliveryLog(state);
    logs.set(state, log);
  }
  return log;
}

function numberAt(payload: JsonObject, key: string): number | null {
  const value = payload[key];
  if (value && typeof value === 'object' && typeof (value as { id?: unknown }).id === 'number')
    return (value as { id: number }).id;
  return null;
}

/**
 * What GitHub keeps of an App's webhook deliveries: every attempt, successful or not, with the
 * receiver's answer (or the connection failure). GitHub does not retry a failed delivery by
 * itself; `POST /app/hook/deliveries/{id}/attempts` sends it again as a redelivery.
 */
export class HookDeliveryLog {
  private readonly attempts: HookDeliveryAttempt[] = [];
  private nextId = 90_000_001;
  /** Redeliveries started and not yet answered (tests await them). */
  private readonly inFlight = new Set<Promise<unknown>>();

  constructor(private readonly state: SimState) {}

  /** Every attempt, newest first, as GitHub lists them. */
  list(): readonly HookDeliveryAttempt[] {
    return [...this.attempts].reverse();
  }

  get(id: number): HookDeliveryAttempt | undefined {
    return this.attempts.find((a) => a.id === id);
  }

  /** Send `delivery` to the App's webhook URL, as GitHub does, and log the attempt. */
  async deliver(delivery: WebhookDelivery, redelivery = false): Promise<HookDeliveryAttempt> {
    const target = this.state.webhookTarget;
    if (!target) throw new Error('github-sim: no webhook URL set (setWebhookTarget)');
    const started = this.state.clock();
    const t0 = performance.now();
    let status: string;
    let statusCode = 0;
    let responseBody = '';
    try {
      const response = await fetch(target.url, {
        method: 'POST',
        headers: await deliveryHeaders(delivery, target.secret),
        body: delivery.body,
        // GitHub gives up on a receiver after 10 seconds.
        signal: AbortSignal.timeout(10_000),
      });
      responseBody = await response.text();
      statusCode = response.status;
      status = response.ok ? 'OK' : `Invalid HTTP Response: ${response.status}`;
    } catch (error) {
      const name = (error as Error).name;
      status = name === 'TimeoutError' ? 'timed out' : 'failed to connect to host';
    }
    const attempt: HookDeliveryAttempt = {
      id: this.nextId++,
      guid: delivery.id,
      deliveredAt: started,
      redelivery,
      duration: Math.round(performance.now() - t0) / 1000,
      status,
      statusCode,
      event: delivery.event,
      action: typeof delivery.payload.action === 'string' ? delivery.payload.action : null,
      installationId: numberAt(delivery.payload, 'installation'),
      repositoryId: numberAt(delivery.payload, 'repository'),
      responseBody,
      delivery,
    };
    this.attempts.push(attempt);
    return attempt;
  }

  /** Redeliver attempt `id` in the background (the API answers 202 at once). */
  redeliver(attempt: HookDeliveryAttempt): void {
    const sending = this.deliver(attempt.delivery, true).catch(() => {});
    this.inFlight.add(sending);
    void sending.finally(() => this.inFlight.delete(sending));
  }

  /** Resolves once every redelivery started so far has been answered. */
  async settled(): Promise<void> {
    await Promise.all([...this.inFlight]);
  }
}
