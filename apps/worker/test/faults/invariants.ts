import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { LocalStack } from '@evalbot/local-stack';
import { processesInside, processesWithCmdline } from '@evalbot/test-utils';
import { Redis } from 'ioredis';
import { expect } from 'vitest';
import {
  botComments,
  checkRunsOf,
  type FaultStack,
  jobsOfPullRequest,
  type TinyPullRequest,
} from './fault-stack.ts';

/**
 * What must hold once a PR's evaluation is over, whatever went wrong on the way: one evalbot
 * comment, showing `headSha`'s report; one check run for `headSha`, completed; its compare job
 * completed exactly once; no job of the PR failed for good; no check run left in progress.
 * Returns the comment's body.
 */
export async function expectOneReport(
  fault: FaultStack,
  pr: TinyPullRequest,
  headSha: string,
  expected: { conclusion: 'success' | 'failure' | 'neutral' },
): Promise<string> {
  const { stack } = fault;
  const comments = botComments(stack, pr);
  expect(comments, 'evalbot comments on the PR').toHaveLength(1);
  const body = comments[0]?.body ?? '';
  expect(body).toContain(headSha.slice(0, 7));
  expect(body).not.toContain('⏳');

  const runs = checkRunsOf(stack, pr, headSha);
  expect(
    runs.map((r) => ({ status: r.status, conclusion: r.conclusion })),
    `check runs of ${headSha.slice(0, 7)}`,
  ).toEqual([{ status: 'completed', conclusion: expected.conclusion }]);
  const everyRun = stack.sim.checkRuns(pr.owner, pr.repo);
  expect(
    everyRun.filter((r) => r.status !== 'completed'),
    'check runs left in progress',
  ).toEqual([]);

  const completed = await jobsOfPullRequest(fault.queues.compare, pr, ['completed']);
  expect(
    completed.filter((j) => j.data.pr.headSha === headSha).map((j) => j.returnvalue),
    'compare jobs of the head that completed',
  ).toEqual(['published']);
  for (const queue of [fault.queues.compare, fault.queues.evaluate]) {
    const failed = await jobsOfPullRequest(queue, pr, ['failed']);
    expect(
      failed.map((j) => `${j.id}: ${j.failedReason}`),
      `failed jobs in ${queue.name}`,
    ).toEqual([]);
  }
  return body;
}

/** Entries left in the workers' work directories (job directories, their markers). */
export async function workDirLeftovers(stack: LocalStack): Promise<string[]> {
  const left: string[] = [];
  for (const dir of new Set(stack.workDirs)) {
    for (const name of await readdir(dir).catch(() => [])) left.push(join(dir, name));
  }
  return left;
}

/** Nothing of a run is left: no process carrying `markers`, none inside a job directory, no job directory. */
export async function expectNothingLeftBehind(fault: FaultStack, markers: string[]): Promise<void> {
  for (const marker of markers) {
    expect(await processesWithCmdline(marker), `processes with ${marker} in their command line`).toEqual([]);
  }
  expect(await processesInside(fault.stackRoot), 'processes running inside the work directories').toEqual([]);
  expect(await workDirLeftovers(fault.stack), 'entries left in the work directories').toEqual([]);
}

/** Resident memory of a process in bytes (0 once it is gone). */
export async function residentBytes(pid: number): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8').catch(() => '');
  const kb = /^VmRSS:\s+(\d+) kB/m.exec(status)?.[1];
  return kb ? Number(kb) * 1024 : 0;
}

/** The values that must never be shown: App key (and each line of it), webhook secret, tokens, REDIS_URL. */
export function secretsOf(stack: LocalStack): { name: string; value: string }[] {
  const key = stack.sim.privateKey ?? '';
  const keyLines = key.split('\n').filter((line) => line.length >= 40 && !line.startsWith('-----'));
  return [
    { name: 'the App private key', value: key.trim() },
    ...keyLines.map((value, i) => ({ name: `line ${i + 1} of the App private key`, value })),
    { name: 'the webhook secret', value: stack.webhookSecret },
    ...[...stack.sim.state.tokens.keys()].map((value) => ({ name: 'an installation token', value })),
    { name: 'REDIS_URL', value: stack.redisUrl },
  ];
}

/** Every value stored in the stack's Redis (job data, results, logs, evalbot's own keys), as text. */
export async function redisContents(stack: LocalStack): Promise<string[]> {
  const redis = new Redis(stack.redisUrl, { maxRetriesPerRequest: 3 });
  try {
    const out: string[] = [];
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'COUNT', 500);
      cursor = next;
      for (const key of keys) {
        const type = await redis.type(key);
        const values =
          type === 'string'
            ? [(await redis.get(key)) ?? '']
            : type === 'hash'
              ? Object.entries(await redis.hgetall(key)).flat()
              : type === 'list'
                ? await redis.lrange(key, 0, -1)
                : type === 'set'
                  ? await redis.smembers(key)
                  : type === 'zset'
                    ? await redis.zrange(key, 0, -1)
                    : type === 'stream'
                      ? (await redis.xrange(key, '-', '+')).flatMap(([id, fields]) => [id, ...fields])
                      : [];
        out.push(`${key} ${values.join(' ')}`);
      }
    } while (cursor !== '0');
    return out;
  } finally {
    redis.disconnect();
  }
}

/** Which secrets appear in `texts` (by name, with where they were found). */
export function leakedSecrets(
  secrets: { name: string; value: string }[],
  texts: { where: string; text: string }[],
): string[] {
  const leaks: string[] = [];
  for (const secret of secrets) {
    if (secret.value.length < 8) continue;
    for (const { where, text } of texts) {
      if (text.includes(secret.value)) leaks.push(`${secret.name} in ${where}`);
    }
  }
  return leaks;
}

/**
 * No secret (App key, webhook secret, installation tokens, REDIS_URL) in what evalbot showed or
 * stored: the PRs' comments and check runs, every value in Redis (job data, results, logs), and
 * the gateway's and workers' own logs.
 */
export async function expectNoSecretShown(
  stack: LocalStack,
  pullRequests: { owner: string; repo: string; number: number }[],
): Promise<void> {
  const texts = [
    ...pullRequests.flatMap((p) => [
      ...stack.sim
        .comments(p.owner, p.repo, p.number)
        .map((c) => ({ where: `${p.repo} comment`, text: c.body })),
      ...stack.sim
        .checkRuns(p.owner, p.repo)
        .map((r) => ({ where: `${p.repo} check run`, text: JSON.stringify(r.output) })),
    ]),
    ...(await redisContents(stack)).map((text) => ({ where: `Redis key ${text.split(' ')[0]}`, text })),
    ...[stack.gateway, ...stack.workers].map((s) => ({ where: `${s.name}'s log`, text: s.output() })),
  ];
  const secrets = secretsOf(stack);
  expect(secrets.filter((s) => s.name === 'an installation token').length).toBeGreaterThan(0);
  expect(leakedSecrets(secrets, texts)).toEqual([]);
}
