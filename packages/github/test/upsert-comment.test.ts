import { afterEach, describe, expect, it } from 'vitest';
import { EVALBOT_COMMENT_MARKER, upsertPullRequestComment } from '../src/index.ts';
import { type Stage, startStage } from './fixtures.ts';

let stage: Stage | undefined;
afterEach(async () => {
  await stage?.close();
  stage = undefined;
});

async function upsert(s: Stage, body: string) {
  return upsertPullRequestComment(s.app.installationOctokit(1), {
    owner: s.pr.owner,
    repo: s.pr.repo,
    issueNumber: s.pr.number,
    body,
    botLogin: await s.app.botLogin(),
  });
}

function botComments(s: Stage) {
  return s.sim.comments(s.pr.owner, s.pr.repo, s.pr.number).filter((c) => c.user.login === s.sim.botLogin);
}

describe('upsertPullRequestComment', () => {
  it('creates the comment once and then edits it in place', async () => {
    stage = await startStage();
    const first = await upsert(stage, 'Evaluating…');
    const second = await upsert(stage, 'accuracy 0.91 → 0.93');
    const third = await upsert(stage, 'accuracy 0.91 → 0.93');

    expect([first.action, second.action, third.action]).toEqual(['created', 'updated', 'unchanged']);
    expect(second.id).toBe(first.id);
    const comments = botComments(stage);
    expect(comments).toHaveLength(1);
    expect(comments[0]?.body).toBe(`${EVALBOT_COMMENT_MARKER}\naccuracy 0.91 → 0.93`);
    expect(stage.sim.requestsMatching('POST /repos/:o/:r/issues/:n/comments')).toHaveLength(1);
  });

  it('finds its comment past the first 100 comments, and ignores users quoting the marker', async () => {
    stage = await startStage();
    const { sim, pr } = stage;
    const created = await upsert(stage, 'first report');
    sim.addIssueComment({ ...pr, body: `${EVALBOT_COMMENT_MARKER}\nquoted by a user`, user: 'bob' });
    for (let i = 0; i < 120; i++) sim.addIssueComment({ ...pr, body: `chatter ${i}`, user: 'alice' });

    const updated = await upsert(stage, 'second report');
    expect(updated).toMatchObject({ id: created.id, action: 'updated' });
    expect(botComments(stage)).toHaveLength(1);
    const quoted = sim.comments(pr.owner, pr.repo, pr.number).find((c) => c.user.login === 'bob');
    expect(quoted?.body).toContain('quoted by a user');
    const pages = sim.requestsMatching('GET /repos/:o/:r/issues/:n/comments').map((r) => r.query);
    expect(pages).toContain('per_page=100&page=2');
  });

  it('creates its comment on a PR that already has over 100 comments, then edits it', async () => {
    stage = await startStage();
    const { sim, pr } = stage;
    for (let i = 0; i < 150; i++) sim.addIssueComment({ ...pr, body: `chatter ${i}`, user: 'alice' });
    const created = await upsert(stage, 'one');
    const updated = await upsert(stage, 'two');
    expect([created.action, updated.action]).toEqual(['created', 'updated']);
    expect(updated.id).toBe(created.id);
    expect(botComments(stage)).toHaveLength(1);
  });

  it('posts one comment when several upserts race', async () => {
    stage = await startStage();
    const s = stage;
    for (let i = 0; i < 110; i++) s.sim.addIssueComment({ ...s.pr, body: `chatter ${i}`, user: 'alice' });
    const results = await Promise.all(Array.from({ length: 6 }, (_, i) => upsert(s, `report ${i}`)));
    expect(results.filter((r) => r.action === 'created')).toHaveLength(1);
    expect(new Set(results.map((r) => r.id)).size).toBe(1);
    const comments = botComments(s);
    expect(comments).toHaveLength(1);
    expect(comments[0]?.body).toBe(`${EVALBOT_COMMENT_MARKER}\nreport 5`);
  });

  it('keeps the oldest copy and deletes duplicates another process left behind', async () => {
    stage = await startStage();
    const { sim, pr } = stage;
    const oldest = sim.addIssueComment({ ...pr, body: `${EVALBOT_COMMENT_MARKER}\nA`, user: sim.botLogin });
    sim.addIssueComment({ ...pr, body: `${EVALBOT_COMMENT_MARKER}\nB`, user: sim.botLogin });
    const result = await upsert(stage, 'C');
    expect(result).toMatchObject({ id: oldest.id, action: 'updated', duplicatesDeleted: 1 });
    expect(botComments(stage).map((c) => c.body)).toEqual([`${EVALBOT_COMMENT_MARKER}\nC`]);
  });

  it('shortens a report over GitHub’s 65536-character limit instead of failing', async () => {
    stage = await startStage();
    const result = await upsert(stage, 'x'.repeat(70_000));
    expect(result.action).toBe('created');
    const body = botComments(stage)[0]?.body ?? '';
    expect(body.length).toBe(65_536);
    expect(body).toContain('truncated');
  });
});
