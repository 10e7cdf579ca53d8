import {
  CANCELLED_HEAD,
  compareJobSchema,
  createRedisConnection,
  evaluateCommandJobSchema,
  evaluateJobSchema,
  PULL_REQUEST_TRIGGERS,
  pullRequestEventSchema,
  readPullRequestHead,
} from '@evalbot/jobs';
import { waitFor } from '@evalbot/test-utils';
import { describe, expect, it } from 'vitest';
import {
  allJobs,
  BASE,
  delivery,
  deliveryLog,
  HEAD,
  jobCount,
  send,
  sendAndRoute,
  useGateway,
} from './gateway-fixtures.ts';

const gw = useGateway();
const PR_KEY = 'octo-org/hello-ml#7';

/** The one flow in Redis: its parent and both children, each payload parsed by the catalog. */
async function theFlow() {
  const jobs = await allJobs(gw.producer);
  expect(jobs.compare).toHaveLength(1);
  expect(jobs.evaluate).toHaveLength(2);
  const parent = jobs.compare[0];
  const compare = compareJobSchema.parse(parent?.data);
  const sides = jobs.evaluate.map((j) => evaluateJobSchema.parse(j.data));
  const head = sides.find((s) => s.side === 'head');
  const base = sides.find((s) => s.side === 'base');
  for (const child of jobs.evaluate)
    expect(child.parentKey).toBe(`${gw.config.bullmqPrefix}:evalbot-compare:${parent?.id}`);
  return { parentId: parent?.id, compare, head, base };
}

describe('deliveries that start an evaluation', () => {
  it('queues a head-vs-base flow when the evaluate label is added, whatever its case', async () => {
    const d = delivery('pull_request', 'labeled', { label: 'Evaluate' });
    const { res, routed } = await sendAndRoute(gw, d);
    expect(res.json()).toEqual({ status: 'recorded', deliveryId: d.id });
    const flow = await theFlow();
    expect(routed).toEqual({
      status: 'queued',
      jobId: flow.parentId,
      evaluationKey: flow.compare.evaluationKey,
      superseded: [],
    });
    expect(flow.compare.evaluationKey).toBe(`${PR_KEY}@${HEAD}..${BASE}`);
    expect(flow.compare.pr).toMatchObject({
      installationId: 4242,
      owner: 'octo-org',
      repo: 'hello-ml',
      number: 7,
      cloneUrl: 'https://github.com/octo-org/hello-ml.git',
      repoHtmlUrl: 'https://github.com/octo-org/hello-ml',
      headRef: 'wider-net',
      baseRef: 'main',
      fromFork: false,
      author: 'alice',
    });
    expect(flow.compare.request).toMatchObject({ trigger: 'labeled', deliveryId: d.id, sender: 'alice' });
    expect(flow.head).toMatchObject({ sha: HEAD, fetchRefs: [HEAD, 'refs/heads/wider-net'] });
    expect(flow.base).toMatchObject({ sha: BASE, fetchRefs: [BASE, 'refs/heads/main'] });
    expect(JSON.stringify(await allJobs(gw.producer))).not.toContain(gw.config.webhookSecret);
  });

  // Every trigger of the one list in @evalbot/jobs: one added there is routed, or this fails.
  it.each(PULL_REQUEST_TRIGGERS)('queues a flow on %s while the label is on the PR', async (action) => {
    await sendAndRoute(
      gw,
      delivery('pull_request', action, { label: 'evaluate', labels: ['bug', 'EVALUATE'] }),
    );
    expect((await theFlow()).compare.request.trigger).toBe(action);
  });

  it('fetches the head of a fork PR through refs/pull/N/head', async () => {
    const d = delivery('pull_request', 'labeled', {
      label: 'evaluate',
      pullRequest: {
        number: 7,
        headSha: HEAD,
        baseSha: BASE,
        headRepo: { owner: 'mallory', name: 'hello-ml' },
      },
    });
    await sendAndRoute(gw, d);
    const flow = await theFlow();
    expect(flow.compare.pr.fromFork).toBe(true);
    expect(flow.head?.fetchRefs).toEqual([HEAD, 'refs/pull/7/head']);
  });

  it('queues an /evaluate command for the worker to resolve and permission-check', async () => {
    const d = delivery('issue_comment', 'created', {
      comment: { body: '/evaluate\nplease', id: 555 },
      sender: 'bob',
    });
    const { routed } = await sendAndRoute(gw, d);
    const jobs = await allJobs(gw.producer);
    expect(jobs.compare).toHaveLength(0);
    expect(jobs.command).toHaveLength(1);
    expect(routed).toEqual({ status: 'queued', jobId: jobs.command[0]?.id, command: 'evaluate' });
    expect(evaluateCommandJobSchema.parse(jobs.command[0]?.data)).toMatchObject({
      pr: { installationId: 4242, owner: 'octo-org', repo: 'hello-ml', number: 7 },
      request: { trigger: 'comment', commentId: 555, sender: 'bob', deliveryId: d.id },
    });
  });

  it('falls back to INSTALL_ID only when the payload names no installation', async () => {
    await gw.restart({ INSTALL_ID: '31337' });
    await sendAndRoute(gw, delivery('pull_request', 'labeled', { label: 'evaluate', installationId: null }));
    expect((await theFlow()).compare.pr.installationId).toBe(31337);
  });
});

/** `d` with its payload changed and serialised again, so the signature covers the change. */
function reshaped(d: ReturnType<typeof delivery>, change: (payload: Record<string, unknown>) => object) {
  const payload = change(structuredClone(d.payload)) as typeof d.payload;
  return { ...d, payload, body: JSON.stringify(payload) };
}

describe('deliveries that enqueue nothing', () => {
  const cases: [string, () => ReturnType<typeof delivery>, RegExp][] = [
    [
      'another label',
      () => delivery('pull_request', 'labeled', { label: 'bug' }),
      /label "bug" is not the evaluate label "evaluate"/,
    ],
    [
      'a push without the label',
      () => delivery('pull_request', 'synchronize', { labels: ['bug'] }),
      /"evaluate" label is not on the pull request/,
    ],
    [
      'a reopen without the label',
      () => delivery('pull_request', 'reopened'),
      /"evaluate" label is not on the pull request/,
    ],
    [
      'an opened PR',
      () => delivery('pull_request', 'opened', { labels: ['evaluate'] }),
      /pull_request\.opened neither starts nor cancels/,
    ],
    [
      'an edited comment',
      () => delivery('issue_comment', 'edited', { comment: { body: '/evaluate' } }),
      /not a new comment/,
    ],
    [
      'a comment that is not a command',
      () => delivery('issue_comment', 'created', { comment: { body: 'LGTM /evaluate' } }),
      /does not start with \/evaluate/,
    ],
    [
      'a longer word',
      () => delivery('issue_comment', 'created', { comment: { body: '/evaluated it myself' } }),
      /does not start with \/evaluate/,
    ],
    [
      'a command on an issue',
      () => ({
        ...delivery('issue_comment', 'created', { comment: { body: '/evaluate' }, pullRequest: undefined }),
      }),
      /on an issue, not a pull request/,
    ],
    [
      'an opened PR whose "action" is not the first key (read whole)',
      () =>
        reshaped(delivery('pull_request', 'opened', { labels: ['evaluate'] }), (p) => ({ zen: 'x', ...p })),
      /^pull_request\.opened neither starts nor cancels an evaluation$/,
    ],
    [
      'a payload without an action',
      () => reshaped(delivery('pull_request', 'labeled', { label: 'evaluate' }), ({ action: _, ...p }) => p),
      /^pull_request\.\(no action\) neither starts nor cancels an evaluation$/,
    ],
    [
      'an edited comment whose "action" is not the first key (read whole)',
      () =>
        reshaped(delivery('issue_comment', 'edited', { comment: { body: '/evaluate' } }), (p) => ({
          zen: 'x',
          ...p,
        })),
      /^issue_comment\.edited is not a new comment$/,
    ],
    [
      'the label added to a closed PR',
      () =>
        delivery('pull_request', 'labeled', {
          label: 'evaluate',
          pullRequest: { number: 7, headSha: HEAD, baseSha: BASE, state: 'closed' },
        }),
      /^the pull request is closed$/,
    ],
    [
      'a command from a bot',
      () =>
        reshaped(delivery('issue_comment', 'created', { comment: { body: '/evaluate' } }), (p) => ({
          ...p,
          sender: { ...(p.sender as object), type: 'Bot' },
        })),
      /^comments by bots are not commands$/,
    ],
    [
      'a clone URL that is not a URL',
      () =>
        reshaped(delivery('pull_request', 'labeled', { label: 'evaluate' }), (p) => ({
          ...p,
          repository: { ...(p.repository as object), clone_url: 'hello-ml.git' },
        })),
      /^repository\.clone_url "hello-ml\.git" is not a URL$/,
    ],
    [
      'a push event',
      () => delivery('push', undefined, { pullRequest: undefined }),
      /"push" event does not start or cancel/,
    ],
    ['an issues event', () => delivery('issues', 'opened', { pullRequest: undefined }), /"issues" event/],
    [
      'a payload without installation',
      () => delivery('pull_request', 'labeled', { label: 'evaluate', installationId: null }),
      /INSTALL_ID is not set/,
    ],
    [
      'a repository on another GitHub',
      () => delivery('pull_request', 'labeled', { label: 'evaluate', webUrl: 'https://ghe.example.com' }),
      /is not on GITHUB_URL https:\/\/github.com/,
    ],
  ];
  it.each(cases)('ignores %s with 202 and the reason', async (_name, make, reason) => {
    const res = await send(gw.app, make());
    expect(res.statusCode).toBe(202);
    expect(res.json()).toEqual({ status: 'ignored', reason: expect.stringMatching(reason) });
    expect(await jobCount(gw.producer)).toBe(0);
    // Ignored events never reach Redis, not even the delivery log.
    expect(await deliveryLog(gw.producer)).toHaveLength(0);
  });

  it('answers an event it never acts on from its header, without parsing the body', async () => {
    const d = { ...delivery('check_run', 'completed', { pullRequest: undefined }), body: 'not JSON at all' };
    const res = await send(gw.app, d);
    expect(res.statusCode).toBe(202);
    expect(res.json()).toEqual({
      status: 'ignored',
      reason: 'the "check_run" event does not start or cancel evaluations',
    });
    // A body that is parsed is refused when it is not JSON.
    const parsed = await send(gw.app, { ...delivery('pull_request', 'labeled'), body: 'not JSON at all' });
    expect(parsed.statusCode).toBe(400);
  });

  it.each([
    ['pull_request', 'opened', 'pull_request.opened neither starts nor cancels an evaluation'],
    ['issue_comment', 'edited', 'issue_comment.edited is not a new comment'],
  ])('answers a %s.%s from its leading action, without parsing the rest', async (event, action, reason) => {
    const d = { ...delivery(event, action), body: `{"action":"${action}", "rest": not JSON` };
    const res = await send(gw.app, d);
    expect(res.statusCode).toBe(202);
    expect(res.json()).toEqual({ status: 'ignored', reason });
    // An action that may start work is read whole: this body is then refused.
    const labeled = { ...delivery('pull_request', 'labeled'), body: '{"action":"labeled", "rest": not JSON' };
    expect((await send(gw.app, labeled)).statusCode).toBe(400);
  });

  it('records a burst of deliveries, each once, a repeated id included', async () => {
    const burst = Array.from({ length: 40 }, (_, i) =>
      delivery('pull_request', 'labeled', {
        label: 'evaluate',
        pullRequest: { number: 100 + i, headSha: HEAD, baseSha: BASE },
      }),
    );
    const answers = await Promise.all([...burst, burst[0] as (typeof burst)[0]].map((d) => send(gw.app, d)));
    expect(answers.map((a) => a.statusCode)).toEqual(Array(41).fill(202));
    const log = await deliveryLog(gw.producer);
    expect(log.map((j) => j.id).sort()).toEqual(burst.map((d) => d.id).sort());
  });

  it('answers ping with 200', async () => {
    const res = await send(gw.app, delivery('ping', undefined, { pullRequest: undefined }));
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({ status: 'ok' });
    expect(await jobCount(gw.producer)).toBe(0);
  });

  it('acts on a redelivered delivery once', async () => {
    const d = delivery('pull_request', 'labeled', { label: 'evaluate' });
    const first = await sendAndRoute(gw, d);
    const again = await sendAndRoute(gw, d);
    expect(again.res.json()).toEqual({ status: 'recorded', deliveryId: d.id });
    expect(await deliveryLog(gw.producer)).toHaveLength(1);
    expect(again.routed).toMatchObject({ status: 'duplicate', deliveryId: d.id, first: first.routed });
    expect((await allJobs(gw.producer)).compare).toHaveLength(1);
  });

  it('does not queue an evaluation of the same head and base twice', async () => {
    const first = (await sendAndRoute(gw, delivery('pull_request', 'labeled', { label: 'evaluate' }))).routed;
    const second = await sendAndRoute(gw, delivery('pull_request', 'synchronize', { labels: ['evaluate'] }));
    if (first.status !== 'queued' || !('evaluationKey' in first)) throw new Error(first.status);
    expect(second.routed).toEqual({
      status: 'duplicate',
      jobId: first.jobId,
      evaluationKey: first.evaluationKey,
      reason: 'this head and base are already queued or running',
    });
    expect((await allJobs(gw.producer)).compare).toHaveLength(1);
  });
});

describe('deliveries that cancel or supersede', () => {
  it.each([
    ['closed', delivery.bind(null, 'pull_request', 'closed', { labels: ['evaluate'] })],
    [
      'unlabeled',
      delivery.bind(null, 'pull_request', 'unlabeled', { label: 'Evaluate', labels: ['Evaluate'] }),
    ],
  ])('removes pending work and tells workers when the PR is %s', async (reason, make) => {
    const subscriber = createRedisConnection({ url: gw.redisUrl }, { role: 'worker' });
    const events: unknown[] = [];
    await subscriber.subscribe(`${gw.config.bullmqPrefix}:pr-events`);
    subscriber.on('message', (_channel, message) =>
      events.push(pullRequestEventSchema.parse(JSON.parse(message))),
    );
    try {
      const queued = await sendAndRoute(gw, delivery('pull_request', 'labeled', { label: 'evaluate' }));
      const { routed } = await sendAndRoute(gw, make());
      if (queued.routed.status !== 'queued') throw new Error(queued.routed.status);
      expect(routed).toEqual({ status: 'cancelled', removed: [queued.routed.jobId], running: [] });
      expect(await jobCount(gw.producer)).toBe(0);
      expect(await readPullRequestHead(gw.producer.connection, gw.config.bullmqPrefix, PR_KEY)).toBe(
        CANCELLED_HEAD,
      );
      await waitFor(() => events.length === 2, { what: 'the head and the cancellation events' });
      expect(events[1]).toEqual({ prKey: PR_KEY, headSha: null, reason });
    } finally {
      subscriber.disconnect();
    }
  });

  it('ignores the removal of another label', async () => {
    await sendAndRoute(gw, delivery('pull_request', 'labeled', { label: 'evaluate' }));
    const res = await send(
      gw.app,
      delivery('pull_request', 'unlabeled', { label: 'bug', labels: ['evaluate'] }),
    );
    expect(res.json()).toEqual({ status: 'ignored', reason: 'removed label "bug" is not "evaluate"' });
    expect((await allJobs(gw.producer)).compare).toHaveLength(1);
  });

  it('replaces the queued flow of an older head with the new head', async () => {
    const older = (await sendAndRoute(gw, delivery('pull_request', 'labeled', { label: 'evaluate' }))).routed;
    const newHead = 'c3'.repeat(20);
    const { routed } = await sendAndRoute(
      gw,
      delivery('pull_request', 'synchronize', {
        labels: ['evaluate'],
        pullRequest: { number: 7, headSha: newHead, baseSha: BASE, labels: ['evaluate'] },
      }),
    );
    if (older.status !== 'queued') throw new Error(older.status);
    expect(routed).toMatchObject({ status: 'queued', superseded: [older.jobId] });
    expect((await theFlow()).head?.sha).toBe(newHead);
    expect(await readPullRequestHead(gw.producer.connection, gw.config.bullmqPrefix, PR_KEY)).toBe(newHead);
  });

  it('ignores a late delivery older than the PR state it would undo', async () => {
    const labeledAt = '2026-03-01T12:00:10Z';
    await sendAndRoute(
      gw,
      delivery('pull_request', 'labeled', {
        label: 'evaluate',
        pullRequest: { number: 7, headSha: HEAD, baseSha: BASE, updatedAt: labeledAt },
      }),
    );
    const lateUnlabel = await sendAndRoute(
      gw,
      delivery('pull_request', 'unlabeled', {
        label: 'evaluate',
        pullRequest: { number: 7, headSha: HEAD, baseSha: BASE, updatedAt: '2026-03-01T12:00:02Z' },
      }),
    );
    expect(lateUnlabel.routed).toEqual({ status: 'stale', reason: expect.stringMatching(/newer event/) });
    expect((await allJobs(gw.producer)).compare).toHaveLength(1);
  });
});
