import { describe, expect, it } from 'vitest';
import {
  COMMENT_MARKER,
  isReportComment,
  renderCancelled,
  renderCancelledComment,
  renderPending,
  renderPendingCheckRun,
  renderSuperseded,
} from '../src/index.ts';
import { BASE_SHA, EARLIER_RUNS, HEAD_SHA, NOW, REPO_URL } from './fixtures.ts';

const pr = { repoHtmlUrl: REPO_URL };

describe('pending and cancelled output', () => {
  it('shows which head is evaluated against which base while the run is pending', () => {
    const body = renderPending({ pr, headSha: HEAD_SHA, baseSha: BASE_SHA, startedAt: NOW });
    expect(body.startsWith(`${COMMENT_MARKER}\n`)).toBe(true);
    expect(isReportComment(body)).toBe(true);
    expect(body).toContain(
      `## ⏳ evalbot: evaluating head [\`abc1234\`](${REPO_URL}/commit/${HEAD_SHA}) against base [\`def5678\`](${REPO_URL}/commit/${BASE_SHA}) …`,
    );
    expect(body).toContain('Started 2025-06-01 12:00 UTC.');
    expect(body).not.toContain('superseded');
  });

  it('notes a superseded run, shows progress and keeps earlier runs', () => {
    const body = renderPending({
      pr,
      headSha: HEAD_SHA,
      baseSha: BASE_SHA,
      startedAt: NOW,
      supersededSha: '2222222aaaaaaaabbbbbbbbccccccccdddddddd',
      progress: { head: { stage: 'setup', message: 'installing requirements', percent: 20 } },
      previousRuns: EARLIER_RUNS,
    });
    expect(body).toContain('> The evaluation of [`2222222`]');
    expect(body).toContain('was stopped: a newer commit was pushed.');
    expect(body).toContain('- head: **setup**: installing requirements (20%)');
    expect(body).toContain('<summary>Earlier runs on this PR (2)</summary>');
  });

  it('gives the in-progress check run a title and summary', () => {
    expect(renderPendingCheckRun({ headSha: HEAD_SHA, baseSha: BASE_SHA, startedAt: NOW })).toEqual({
      title: 'Evaluating head abc1234 against base def5678',
      summary:
        'Started 2025-06-01 12:00 UTC. Both commits are trained and evaluated; the result and the comparison appear here and in the PR comment.',
    });
  });

  it('cancels a superseded check run and names the newer commit', () => {
    const out = renderSuperseded({
      headSha: HEAD_SHA,
      newHeadSha: '3333333aaaaaaaabbbbbbbbccccccccdddddddd',
    });
    expect(out.conclusion).toBe('cancelled');
    expect(out.title).toBe('Superseded by 3333333');
    expect(out.summary).toContain('the evaluation of abc1234 was stopped');
  });

  it('cancels a check run when the PR is closed or the label removed, saying how to run it again', () => {
    expect(renderCancelled({ headSha: HEAD_SHA, reason: 'closed' })).toMatchObject({
      conclusion: 'cancelled',
      title: 'Cancelled: the pull request was closed',
    });
    const unlabeled = renderCancelled({ headSha: HEAD_SHA, reason: 'unlabeled', label: 'evaluate' });
    expect(unlabeled.title).toBe('Cancelled: the evaluate label was removed');
    expect(unlabeled.summary).toContain('Add the label again to evaluate it.');
    const comment = renderCancelledComment({
      pr,
      headSha: HEAD_SHA,
      reason: 'unlabeled',
      previousRuns: EARLIER_RUNS,
    });
    expect(comment.startsWith(COMMENT_MARKER)).toBe(true);
    expect(comment).toContain('cancelled');
    expect(comment).toContain('Earlier runs on this PR (2)');
  });
});
