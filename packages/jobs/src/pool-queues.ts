import { jobCatalog } from './job-catalog.ts';
import { POOL_NAME } from './payloads.ts';

const POOL_QUEUE_PREFIX = `${jobCatalog.evaluate.queue}-`;

/** The evaluate queue of the worker pool `pool` (not the default one): `evalbot-evaluate-<pool>`. */
export function poolQueueOf(pool: string): string {
  return `${POOL_QUEUE_PREFIX}${pool}`;
}

/** The pool whose evaluate queue `name` is; undefined when `name` is no pool's queue. */
export function poolOfQueue(name: string): string | undefined {
  if (!name.startsWith(POOL_QUEUE_PREFIX)) return undefined;
  const pool = name.slice(POOL_QUEUE_PREFIX.length);
  return POOL_NAME.test(pool) ? pool : undefined;
}
