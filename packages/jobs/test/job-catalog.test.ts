import { describe, expect, expectTypeOf, it } from 'vitest';
import type { z } from 'zod';
import {
  type CompareJob,
  type DeliveryJob,
  type EvaluateCommandJob,
  type EvaluateJob,
  type EvaluationRequest,
  type JobData,
  jobCatalog,
  jobOf,
  jobOptionsOf,
  PULL_REQUEST_CANCELS,
  PULL_REQUEST_TRIGGERS,
  type PullRequestTrigger,
  QUEUE_NAMES,
  requestSchema,
  TRIGGERS,
  type Trigger,
  triggerSchema,
  VOUCHED_BY_MAINTAINER,
} from '../src/index.ts';
import { BASE, HEAD, pullRequest, request } from './fixtures.ts';

const side = (overrides: Partial<EvaluateJob> = {}) => ({
  pr: pullRequest(),
  request: request(),
  side: 'head' as const,
  sha: HEAD,
  fetchRefs: [HEAD],
  ...overrides,
});

describe('the job catalog', () => {
  it('gives each kind of job a queue of its own, and every queue a kind', () => {
    const queues = Object.values(jobCatalog).map((job) => job.queue);
    expect(new Set(queues).size).toBe(queues.length);
    expect([...QUEUE_NAMES]).toEqual(queues);
  });

  it('parses a job when it is made, naming the field that is wrong', () => {
    expect(() => jobOf('evaluate', side({ sha: 'not-a-sha' }))).toThrow(/must be a 40-character commit SHA/);
    expect(() => jobOf('compare', { pr: pullRequest(), request: request(), evaluationKey: '' })).toThrow(
      /evaluationKey/,
    );
  });

  it('makes a job with its name, queue and the options of its kind, plus its own', () => {
    const job = jobOf('evaluate', side({ side: 'base', sha: BASE }), { jobId: 'eval-1-base' });
    expect(job).toMatchObject({ name: 'evaluate-base', queueName: 'evalbot-evaluate', data: { sha: BASE } });
    expect(job.opts).toEqual({ ...jobCatalog.evaluate.jobOptions, jobId: 'eval-1-base' });
    // A side that fails for good must not leave its compare job waiting forever.
    expect(job.opts.ignoreDependencyOnFailure).toBe(true);
    expect(jobOptionsOf('compare', { attempts: 1 })).toMatchObject({
      attempts: 1,
      backoff: { delay: 5_000 },
    });
  });

  it('types each payload as its schema parses it', () => {
    expectTypeOf<JobData<'delivery'>>().toEqualTypeOf<DeliveryJob>();
    expectTypeOf<JobData<'evaluate'>>().toEqualTypeOf<EvaluateJob>();
    expectTypeOf<JobData<'compare'>>().toEqualTypeOf<CompareJob>();
    expectTypeOf<JobData<'command'>>().toEqualTypeOf<EvaluateCommandJob>();
    expectTypeOf(jobCatalog.evaluate.parse).returns.toEqualTypeOf<EvaluateJob>();
    expect(jobCatalog.command.safeParse({ pr: {} }).success).toBe(false);
  });
});

describe('the triggers', () => {
  it('are one list: what the gateway routes, a job accepts and the fork guard decides on', () => {
    // A job accepts exactly the triggers, each pull_request trigger among them.
    expect(triggerSchema.options).toEqual([...TRIGGERS]);
    for (const trigger of PULL_REQUEST_TRIGGERS) {
      expect(requestSchema.safeParse(request({ trigger })).success).toBe(true);
    }
    expect(triggerSchema.safeParse('edited').success).toBe(false);
    // The fork guard has a decision for each, and only for those.
    expect(Object.keys(VOUCHED_BY_MAINTAINER).sort()).toEqual([...TRIGGERS].sort());
    // A cancelling action never starts an evaluation.
    for (const action of PULL_REQUEST_CANCELS) expect(triggerSchema.safeParse(action).success).toBe(false);

    expectTypeOf<z.output<typeof triggerSchema>>().toEqualTypeOf<Trigger>();
    expectTypeOf<EvaluationRequest['trigger']>().toEqualTypeOf<Trigger>();
    expectTypeOf<PullRequestTrigger>().toExtend<Trigger>();
    expectTypeOf(VOUCHED_BY_MAINTAINER).toEqualTypeOf<Readonly<Record<Trigger, boolean>>>();
  });

  it('let a fork push or reopen run only after the guard checks its author', () => {
    expect(Object.entries(VOUCHED_BY_MAINTAINER).filter(([, vouched]) => !vouched)).toEqual([
      ['synchronize', false],
      ['reopened', false],
    ]);
  });
});
