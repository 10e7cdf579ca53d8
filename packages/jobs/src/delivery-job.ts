import { z } from 'zod';
import {
  evaluateCommandJobSchema,
  pullRequestKeyOf,
  pullRequestRefSchema,
  requestSchema,
} from './payloads.ts';
import { PULL_REQUEST_CANCELS } from './triggers.ts';

/** What a verified delivery asks for, as the gateway routed it. */
const deliveryWorkSchema = z.discriminatedUnion('kind', [
  /** Label added, push or reopen with the label on: evaluate the PR's head against its base. */
  z.object({ kind: z.literal('evaluate'), pr: pullRequestRefSchema, request: requestSchema }),
  /** `/evaluate` commented: the command queue checks the commenter and reads the PR. */
  z.object({ kind: z.literal('command'), job: evaluateCommandJobSchema }),
  /** Closed, or the label removed: cancel the PR's pending and running work. */
  z.object({
    kind: z.literal('cancel'),
    pr: z.object({ owner: z.string().min(1), repo: z.string().min(1), number: z.number().int().positive() }),
    reason: z.enum(PULL_REQUEST_CANCELS),
    updatedAt: z.iso.datetime({ offset: true }).optional(),
  }),
]);
export type DeliveryWork = z.infer<typeof deliveryWorkSchema>;

/**
 * A job of the delivery log (`evalbot-delivery`): one webhook delivery worth acting on. Its job
 * id is {@link deliveryJobIdOf} the delivery id, so a delivery recorded twice is one job.
 */
export const deliveryJobSchema = z.object({
  deliveryId: z.string().min(1).max(200),
  /** `X-GitHub-Event`, e.g. `pull_request`. */
  event: z.string().min(1),
  /** The payload's `action`, e.g. `labeled`. */
  action: z.string(),
  receivedAt: z.iso.datetime(),
  work: deliveryWorkSchema,
});
export type DeliveryJob = z.infer<typeof deliveryJobSchema>;

/** BullMQ refuses ':' in custom job ids; GitHub's delivery ids are GUIDs, this guards others. */
export function deliveryJobIdOf(deliveryId: string): string {
  return deliveryId.replace(/:/g, '-');
}

/** The PR a piece of work is about, as `owner/repo#N`. */
export function prKeyOfWork(work: DeliveryWork): string {
  switch (work.kind) {
    case 'evaluate':
    case 'cancel':
      return pullRequestKeyOf(work.pr);
    case 'command':
      return pullRequestKeyOf(work.job.pr);
  }
}
