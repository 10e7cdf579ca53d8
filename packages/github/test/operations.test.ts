import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  addReaction,
  completeCheckRun,
  createCheckRun,
  getPermission,
  getPullRequest,
  removeLabel,
  updateCheckRun,
} from '../src/index.ts';
import { type Stage, startStage } from './fixtures.ts';

let stage: Stage;
beforeAll(async () => {
  stage = await startStage();
});
afterAll(() => stage.close());

const octokit = () => stage.app.installationOctokit(1);
const repo = { owner: 'octo', repo: 'model' };

describe('GitHub operations', () => {
  it('starts a check run, shows progress, and completes it with a conclusion and report', async () => {
    const run = await createCheckRun(octokit(), {
      ...repo,
      headSha: stage.pr.headSha,
      name: 'evalbot',
      externalId: 'octo/model#1',
      startedAt: new Date('2025-01-02T03:04:05Z'),
    });
    await updateCheckRun(octokit(), {
      ...repo,
      checkRunId: run.id,
      output: { title: 'Training head', summary: '50%' },
    });
    expect(stage.sim.checkRuns('octo', 'model', stage.pr.headSha)[0]).toMatchObject({
      status: 'in_progress',
      output: { title: 'Training head' },
    });
    await completeCheckRun(octokit(), {
      ...repo,
      checkRunId: run.id,
      conclusion: 'failure',
      output: { title: 'accuracy dropped 2.1 points', summary: 's'.repeat(70_000), text: 'details' },
      completedAt: new Date('2025-01-02T03:09:05Z'),
    });
    const [done] = stage.sim.checkRuns('octo', 'model', stage.pr.headSha);
    expect(done).toMatchObject({
      id: run.id,
      name: 'evalbot',
      external_id: 'octo/model#1',
      status: 'completed',
      conclusion: 'failure',
      output: { title: 'accuracy dropped 2.1 points', text: 'details' },
      started_at: '2025-01-02T03:04:05Z',
      completed_at: '2025-01-02T03:09:05Z',
    });
    expect(done?.output.summary?.length).toBe(65_535);
    expect(done?.html_url).toBe(run.htmlUrl);
  });

  it('creates a check run already completed, in one request', async () => {
    const before = stage.sim.requestsMatching('/repos/octo/model/check-runs/:id').length;
    const run = await createCheckRun(octokit(), {
      ...repo,
      headSha: stage.pr.headSha,
      name: 'evalbot',
      startedAt: new Date('2025-01-02T03:04:05Z'),
      output: { title: 'same content as abc1234', summary: 'reused', text: 'details' },
      completed: { conclusion: 'neutral', completedAt: new Date('2025-01-02T03:04:06Z') },
    });
    expect(stage.sim.checkRuns('octo', 'model', stage.pr.headSha).find((r) => r.id === run.id)).toMatchObject(
      {
        status: 'completed',
        conclusion: 'neutral',
        output: { title: 'same content as abc1234', summary: 'reused', text: 'details' },
        started_at: '2025-01-02T03:04:05Z',
        completed_at: '2025-01-02T03:04:06Z',
      },
    );
    expect(stage.sim.requestsMatching('/repos/octo/model/check-runs/:id')).toHaveLength(before);
  });

  it('reacts to a comment', async () => {
    const comment = stage.sim.addIssueComment({ ...repo, number: 1, body: '/evaluate', user: 'alice' });
    await addReaction(octokit(), { ...repo, commentId: comment.id, content: 'eyes' });
    await addReaction(octokit(), { ...repo, commentId: comment.id, content: 'eyes' });
    expect(stage.sim.reactions(comment.id)).toMatchObject([
      { content: 'eyes', user: { login: stage.sim.botLogin } },
    ]);
  });

  it('removes a label, and treats an already-removed label as done', async () => {
    expect(await removeLabel(octokit(), { ...repo, issueNumber: 1, name: 'evaluate' })).toEqual({
      removed: true,
    });
    expect(stage.sim.labels('octo', 'model', 1)).toEqual([]);
    expect(await removeLabel(octokit(), { ...repo, issueNumber: 1, name: 'evaluate' })).toEqual({
      removed: false,
    });
  });

  it('reads who may write to the repository', async () => {
    stage.sim.setCollaborator({ ...repo, login: 'wendy', role: 'write' });
    stage.sim.setCollaborator({ ...repo, login: 'maya', role: 'maintain' });
    stage.sim.setCollaborator({ ...repo, login: 'tom', role: 'triage' });
    const of = (username: string) => getPermission(octokit(), { ...repo, username });
    expect(await of('wendy')).toEqual({ permission: 'write', roleName: 'write', canWrite: true });
    expect(await of('maya')).toEqual({ permission: 'write', roleName: 'maintain', canWrite: true });
    expect(await of('octo')).toMatchObject({ permission: 'admin', canWrite: true });
    expect(await of('tom')).toMatchObject({ permission: 'read', canWrite: false });
    expect(await of('stranger')).toMatchObject({ permission: 'none', canWrite: false });
  });

  it('reads a PR from a fork with its head in the fork and its base in the repository', async () => {
    await stage.sim.createRepo({ owner: 'forker', name: 'model', forkOf: { owner: 'octo', name: 'model' } });
    const opened = await stage.sim.openPullRequest({
      ...repo,
      headOwner: 'forker',
      head: 'patch-1',
      files: { 'demo.py': 'print("fork")\n' },
      user: 'forker',
    });
    const pr = await getPullRequest(octokit(), { ...repo, pullNumber: opened.number });
    expect(pr).toMatchObject({
      number: opened.number,
      state: 'open',
      author: 'forker',
      fromFork: true,
      head: { sha: opened.headSha, ref: 'patch-1', repoFullName: 'forker/model' },
      base: {
        sha: stage.pr.baseSha,
        ref: 'main',
        repoFullName: 'octo/model',
        cloneUrl: `${stage.sim.gitUrl}/octo/model.git`,
      },
    });
    const same = await getPullRequest(octokit(), { ...repo, pullNumber: 1 });
    expect(same.fromFork).toBe(false);
  });
});
