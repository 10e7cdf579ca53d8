import type { ApiRoute } from './api-router.ts';
import { type HookDeliveryAttempt, hookDeliveriesOf } from './hook-delivery-log.ts';
import { githubError, notFound } from './http-kit.ts';
import { isoTime } from './sim-state.ts';

function deliveryJson(a: HookDeliveryAttempt) {
  return {
    id: a.id,
    guid: a.guid,
    delivered_at: isoTime(a.deliveredAt),
    redelivery: a.redelivery,
    duration: a.duration,
    status: a.status,
    status_code: a.statusCode,
    event: a.event,
    action: a.action,
    installation_id: a.installationId,
    repository_id: a.repositoryId,
    throttled_at: null,
  };
}

/**
 * The App's webhook delivery log (JWT): `GET /app/hook/deliveries`, newest first, paged with
 * `per_page` (at most 100) and an opaque `cursor` named in the `Link` header's `next`; and
 * `POST /app/hook/deliveries/{delivery_id}/attempts`, which sends that delivery again (202).
 */
export const hookDeliveryRoutes: ApiRoute[] = [
  {
    method: 'GET',
    path: '/app/hook/deliveries',
    access: 'app',
    handle: ({ state, url }) => {
      const all = hookDeliveriesOf(state).list();
      const perPageText = url.searchParams.get('per_page') ?? '30';
      const perPage = Number(perPageText);
      if (!Number.isInteger(perPage) || perPage < 1) {
        throw githubError(422, `Invalid per_page: ${perPageText}`);
      }
      const size = Math.min(perPage, 100);
      const cursor = url.searchParams.get('cursor');
      let start = 0;
      if (cursor) {
        const after = /^v1_(\d+)$/.exec(cursor);
        if (!after) throw githubError(422, `Invalid cursor: ${cursor}`);
        const index = all.findIndex((a) => a.id < Number(after[1]));
        start = index === -1 ? all.length : index;
      }
      const items = all.slice(start, start + size);
      const headers: Record<string, string> = {};
      const last = items.at(-1);
      if (last && start + size < all.length) {
        const next = new URL(url);
        next.searchParams.set('per_page', String(size));
        next.searchParams.set('cursor', `v1_${last.id}`);
        headers.link = `<${next.toString()}>; rel="next"`;
      }
      return { status: 200, body: items.map(deliveryJson), headers };
    },
  },
  {
    method: 'GET',
    path: '/app/hook/deliveries/:delivery_id',
    access: 'app',
    handle: ({ state, params }) => {
      const attempt = hookDeliveriesOf(state).get(Number(params.delivery_id));
      if (!attempt) throw notFound();
      return {
        status: 200,
        body: { ...deliveryJson(attempt), request: { headers: {}, payload: attempt.delivery.payload } },
      };
    },
  },
  {
    method: 'POST',
    path: '/app/hook/deliveries/:delivery_id/attempts',
    access: 'app',
    handle: ({ state, params }) => {
      const log = hookDeliveriesOf(state);
      const attempt = log.get(Number(params.delivery_id));
      if (!attempt) throw notFound();
      if (!state.webhookTarget) throw githubError(422, 'The App has no webhook URL');
      log.redeliver(attempt);
      return { status: 202, body: {} };
    },
  },
];
