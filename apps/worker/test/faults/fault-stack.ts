import { randomBytes } from 'node:crypto';
import { chmod, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { WebhookDelivery } from '@evalbot/github-sim';
import {
  COMMAND_QUEUE,
  COMPARE_QUEUE,
  DELIVERY_QUEUE,
  deliveryJobIdOf,
  EVALUATE_QUEUE,
  type RoutedDelivery,
} from '@evalbot/jobs';
import { type LocalStack, openMlDemoPullRequest, startLocalStack, waitFor } from '@evalbot/local-stack';
import { isReportComment } from '@evalbot/report';
import { type Job, Queue } from 'bullmq';
import { afterAll, beforeAll } from 'vitest';

export const FIXTURES = join(dirname(fileURLToPath(import.meta.url)), 'fixtures');
export const TINY_MODEL_DIR = join(FIXTURES, 'tiny-model');

/** A fake model repository's files (hostile variants replace `demo.py` and `.evalbot.yml`). */
export async function fixtureFile(name: string): Promise<string> {
  return readFile(join(FIXTURES, name), 'utf8');
}

/**
 * A number no other process on the machine has in its command line: the tiny model passes it
 * to `sleep`, so `/proc/<pid>/cmdline` finds every process a run left behind.
 */
export function uniqueMarker(): string {
  return `900.${Date.now() % 1e6}${randomBytes(3).readUIntBE(0, 3)}`;
}

/** `.evalbot.yml` of the tiny model: `run` with an optional marker, `env` for the script. */
export function tinyConfig(opts: {
  marker?: string;
  env?: Record<string, string | number>;
  run?: string;
  timeoutMinutes?: number;
}): string {
  const lines = [`run: ${JSON.stringify(opts.run ?? `python3 demo.py ${opts.marker ?? ''}`.trim())}`];
  if (opts.timeoutMinutes !== undefined) lines.push(`timeout_minutes: ${opts.timeoutMinutes}`);
  const env = Object.entries(opts.env ?? {});
  if (env.length > 0) {
    lines.push('env:');
    for (const [key, value] of env) lines.push(`  ${key}: ${JSON.stringify(String(value))}`);
  }
  return `${lines.join('\n')}\n`;
}

export interface FaultStack {
  stack: LocalStack;
  /** Every BullMQ queue of the stack, for reading job state. */
  queues: { evaluate: Queue; compare: Queue; command: Queue; delivery: Queue };
  /** Parent of the workers' work directories (the stack's temp root). */
  stackRoot: string;
  close(): Promise<void>;
}

export interface FaultStackOptions {
  /** Worker processes; default 2. */
  workers?: number;
  /** Added to each worker's environment. */
  workerEnv?: Record<string, string>;
}

/**
 * The local stack with short job locks (a killed worker's job is retried within seconds) and
 * a cache directory of its own. PR code runs in the production sandbox.
 */
async function startFaultStack(opts: FaultStackOptions = {}): Promise<FaultStack> {
  const cacheDir = await mkdtemp(join(tmpdir(), 'evalbot-faults-cache-'));
  const workerEnv: Record<string, string> = { WORKER_LOCK_DURATION_MS: '3000', ...opts.workerEnv };
  // The sandbox's uids read the shared environments.
  await chmod(cacheDir, 0o755);
  let stack: LocalStack;
  try {
    stack = await startLocalStack({ workers: opts.workers ?? 2, cacheDir, workerEnv, logLevel: 'info' });
  } catch (error) {
    await rm(cacheDir, { recursive: true, force: true });
    throw error;
  }
  const stackRoot = dirname(stack.workDirs[0] as string);
  const connection = { url: stack.redisUrl, maxRetriesPerRequest: null };
  const queue = (name: string) => new Queue(name, { connection, prefix: stack.prefix });
  const queues = {
    evaluate: queue(EVALUATE_QUEUE),
    compare: queue(COMPARE_QUEUE),
    command: queue(COMMAND_QUEUE),
    delivery: queue(DELIVERY_QUEUE),
  };
  return {
    stack,
    queues,
    stackRoot,
    close: async () => {
      await Promise.all(Object.values(queues).map((q) => q.close().catch(() => {})));
      await stack.close();
      await rm(cacheDir, { recursive: true, force: true });
    },
  };
}

/**
 * One fault stack for the test file: started in `beforeAll`, closed in `afterAll` (after the
 * file's own `afterAll` hooks, which may still use it). Read the returned object's fields inside
 * tests and hooks.
 */
export function useFaultStack(opts: FaultStackOptions = {}): FaultStack {
  let started: FaultStack | undefined;
  const current = () => {
    if (!started) throw new Error('useFaultStack(): the stack is started in beforeAll; use it inside a test');
    return started;
  };
  beforeAll(async () => {
    started = await startFaultStack(opts);
  });
  afterAll(async () => started?.close());
  return {
    get stack() {
      return current().stack;
    },
    get queues() {
      return current().queues;
    },
    get stackRoot() {
      return current().stackRoot;
    },
    close: () => current().close(),
  };
}

export type TinyPullRequest = Awaited<ReturnType<typeof openMlDemoPullRequest>>;

/** A PR on its own repository made from the tiny model: base as committed, head with `headFiles`. */
export function openTinyPullRequest(
  stack: LocalStack,
  opts: { repo: string; headFiles: Record<string, string>; baseFiles?: Record<string, string> },
): Promise<TinyPullRequest> {
  return openMlDemoPullRequest(stack.sim, {
    repo: opts.repo,
    sourceDir: TINY_MODEL_DIR,
    headFiles: opts.headFiles,
    ...(opts.baseFiles ? { baseFiles: opts.baseFiles } : {}),
  });
}

/** The accuracy row of {@link openGoodPullRequest}'s report: the tiny model's 93 % on the base, 95 % on the head. */
export const GOOD_REPORT = /accuracy ↑ \| 93\.\d+% \| 95\.\d+%/;

/**
 * A PR on its own repository whose head trains well (learning rate 0.005, see {@link GOOD_REPORT})
 * for `trainSeconds` if given, and leaves a `sleep <marker>` child behind.
 */
export async function openGoodPullRequest(
  stack: LocalStack,
  repo: string,
  opts: { trainSeconds?: number } = {},
): Promise<{ pr: TinyPullRequest; marker: string }> {
  const marker = uniqueMarker();
  const env = {
    TINY_LEARNING_RATE: 0.005,
    ...(opts.trainSeconds !== undefined ? { TINY_SLEEP: opts.trainSeconds } : {}),
  };
  const pr = await openTinyPullRequest(stack, {
    repo,
    headFiles: { '.evalbot.yml': tinyConfig({ marker, env }) },
  });
  return { pr, marker };
}

/** Send a delivery and return the gateway's answer, failing on anything but 2xx. */
export async function deliverOk(stack: LocalStack, delivery: WebhookDelivery) {
  const answer = await stack.deliver(delivery);
  if (answer.status >= 300) throw new Error(`gateway answered ${answer.status}: ${answer.body}`);
  return { status: answer.status, body: JSON.parse(answer.body) as Record<string, unknown> };
}

/** What the router made of a recorded delivery: its job's result in the delivery log, once routed. */
export async function routedOf(fault: FaultStack, delivery: WebhookDelivery): Promise<RoutedDelivery> {
  let routed: RoutedDelivery | undefined;
  await waitFor(
    async () => {
      const job = await fault.queues.delivery.getJob(deliveryJobIdOf(delivery.id));
      // Read from one snapshot of the job: finished, with the router's result.
      if (job?.finishedOn && !job.failedReason) routed = job.returnvalue as RoutedDelivery;
      return routed !== undefined;
    },
    { what: `delivery ${delivery.id} to be routed` },
  );
  return routed as RoutedDelivery;
}

/** The App's comments on a PR (what a user sees from evalbot). */
export function botComments(stack: LocalStack, pr: TinyPullRequest) {
  return stack.sim.comments(pr.owner, pr.repo, pr.number).filter((c) => c.user.login === stack.sim.botLogin);
}

/** Check runs of one commit. */
export function checkRunsOf(stack: LocalStack, pr: TinyPullRequest, headSha: string) {
  return stack.sim.checkRuns(pr.owner, pr.repo, headSha);
}

/** Jobs of one PR (repository and number) in `queue` in the given states. */
export async function jobsOfPullRequest(
  queue: Queue,
  pr: TinyPullRequest,
  states: Parameters<Queue['getJobs']>[0],
): Promise<Job[]> {
  const jobs = await queue.getJobs(states, 0, -1);
  return jobs.filter((j) => j?.data?.pr?.repo === pr.repo && j.data.pr.number === pr.number);
}

/** True when none of the PR's jobs is waiting, running, delayed or waiting for its children. */
export async function pullRequestSettled(fault: FaultStack, pr: TinyPullRequest): Promise<boolean> {
  for (const queue of [fault.queues.compare, fault.queues.evaluate]) {
    const pending = await jobsOfPullRequest(queue, pr, [
      'active',
      'wait',
      'delayed',
      'waiting-children',
      'prioritized',
    ]);
    if (pending.length > 0) return false;
  }
  return true;
}

/**
 * Wait until `headSha`'s report is the PR's comment, its check runs are completed, and none of
 * the PR's jobs is pending; returns the comment body and the check runs of `headSha`.
 */
export async function waitForReport(
  fault: FaultStack,
  pr: TinyPullRequest,
  headSha: string,
  opts: { timeoutMs?: number } = {},
) {
  const { stack } = fault;
  return waitFor(
    async () => {
      const comments = botComments(stack, pr);
      const last = comments.at(-1);
      if (!last || !isReportComment(last.body) || !last.body.includes(headSha.slice(0, 7))) return undefined;
      if (last.body.includes('⏳')) return undefined;
      const runs = checkRunsOf(stack, pr, headSha);
      if (runs.length === 0 || runs.some((r) => r.status !== 'completed')) return undefined;
      if (!(await pullRequestSettled(fault, pr))) return undefined;
      return { body: last.body, comments, checkRuns: runs };
    },
    {
      timeoutMs: opts.timeoutMs ?? 60_000,
      intervalMs: 200,
      what: `the report of ${headSha.slice(0, 7)} on ${pr.repo}#${pr.number}`,
    },
  ).catch((error: Error) => {
    const comments = botComments(stack, pr).map((c) => c.body.slice(0, 1500));
    const logs = stack.workers.map((w) => `--- ${w.name}\n${w.output().slice(-3000)}`).join('\n');
    throw new Error(`${error.message}\ncomments:\n${comments.join('\n---\n')}\n${logs}`);
  });
}
