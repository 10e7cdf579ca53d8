import { appJson } from './app-json.ts';
import { fullNameOf, labelJson, nodeId, repositoryJson, userJson } from './repository-json.ts';
import {
  isoTime,
  type SimAccount,
  type SimCheckRun,
  type SimComment,
  type SimPullRequest,
  type SimReaction,
  type SimRepo,
  type SimState,
  type SimUrls,
} from './sim-state.ts';

/** GitHub's JSON for pull requests and what happens on them: comments, reactions, check runs. */

function branchJson(repo: SimRepo, ref: string, sha: string, urls: SimUrls) {
  return {
    label: `${repo.owner.login}:${ref}`,
    ref,
    sha,
    user: userJson(repo.owner, urls),
    repo: repositoryJson(repo, urls),
  };
}

export function pullRequestJson(pr: SimPullRequest, urls: SimUrls) {
  const fullName = fullNameOf(pr.repo);
  const api = `${urls.api}/repos/${fullName}`;
  const baseSha = pr.repo.branches.get(pr.baseRef) ?? '';
  return {
    url: `${api}/pulls/${pr.number}`,
    id: pr.id,
    node_id: nodeId('PR_', pr.id),
    html_url: `${urls.web}/${fullName}/pull/${pr.number}`,
    diff_url: `${urls.web}/${fullName}/pull/${pr.number}.diff`,
    patch_url: `${urls.web}/${fullName}/pull/${pr.number}.patch`,
    issue_url: `${api}/issues/${pr.number}`,
    number: pr.number,
    state: pr.state,
    locked: false,
    title: pr.title,
    user: userJson(pr.user, urls),
    body: pr.body,
    created_at: isoTime(pr.createdAt),
    updated_at: isoTime(pr.updatedAt),
    closed_at: pr.closedAt === null ? null : isoTime(pr.closedAt),
    merged_at: pr.merged && pr.closedAt !== null ? isoTime(pr.closedAt) : null,
    merge_commit_sha: null,
    assignee: null,
    assignees: [],
    requested_reviewers: [],
    requested_teams: [],
    labels: pr.labels.flatMap((name) => {
      const label = pr.repo.labels.get(name.toLowerCase());
      return label ? [labelJson(label, pr.repo, urls)] : [];
    }),
    milestone: null,
    draft: pr.draft,
    commits_url: `${api}/pulls/${pr.number}/commits`,
    review_comments_url: `${api}/pulls/${pr.number}/comments`,
    review_comment_url: `${api}/pulls/comments{/number}`,
    comments_url: `${api}/issues/${pr.number}/comments`,
    statuses_url: `${api}/statuses/${pr.headSha}`,
    head: branchJson(pr.headRepo, pr.headRef, pr.headSha, urls),
    base: branchJson(pr.repo, pr.baseRef, baseSha, urls),
    _links: {
      self: { href: `${api}/pulls/${pr.number}` },
      html: { href: `${urls.web}/${fullName}/pull/${pr.number}` },
      issue: { href: `${api}/issues/${pr.number}` },
      comments: { href: `${api}/issues/${pr.number}/comments` },
      review_comments: { href: `${api}/pulls/${pr.number}/comments` },
      review_comment: { href: `${api}/pulls/comments{/number}` },
      commits: { href: `${api}/pulls/${pr.number}/commits` },
      statuses: { href: `${api}/statuses/${pr.headSha}` },
    },
    author_association: pr.user.login === pr.repo.owner.login ? 'OWNER' : 'CONTRIBUTOR',
    auto_merge: null,
    active_lock_reason: null,
    merged: pr.merged,
    mergeable: pr.state === 'open' ? true : null,
    rebaseable: pr.state === 'open' ? true : null,
    mergeable_state: pr.state === 'open' ? 'clean' : 'unknown',
    merged_by: null,
    comments: 0,
    review_comments: 0,
    maintainer_can_modify: false,
    commits: 1,
    additions: 0,
    deletions: 0,
    changed_files: 0,
  };
}

export function reactionJson(reaction: SimReaction, urls: SimUrls) {
  return {
    id: reaction.id,
    node_id: nodeId('REA_', reaction.id),
    user: userJson(reaction.user, urls),
    content: reaction.content,
    created_at: isoTime(reaction.createdAt),
  };
}

const REACTION_KEYS = ['+1', '-1', 'laugh', 'hooray', 'confused', 'heart', 'rocket', 'eyes'] as const;

export function commentJson(comment: SimComment, state: SimState, urls: SimUrls) {
  const fullName = fullNameOf(comment.repo);
  const api = `${urls.api}/repos/${fullName}`;
  const counts = Object.fromEntries(
    REACTION_KEYS.map((key) => [key, comment.reactions.filter((r) => r.content === key).length]),
  );
  const isPull = state.pull(comment.repo, comment.issueNumber) !== undefined;
  return {
    url: `${api}/issues/comments/${comment.id}`,
    html_url: `${urls.web}/${fullName}/${isPull ? 'pull' : 'issues'}/${comment.issueNumber}#issuecomment-${comment.id}`,
    issue_url: `${api}/issues/${comment.issueNumber}`,
    id: comment.id,
    node_id: nodeId('IC_', comment.id),
    user: userJson(comment.user, urls),
    created_at: isoTime(comment.createdAt),
    updated_at: isoTime(comment.updatedAt),
    author_association: comment.user.type === 'Bot' ? 'NONE' : associationOf(comment.user, comment.repo),
    body: comment.body,
    reactions: {
      url: `${api}/issues/comments/${comment.id}/reactions`,
      total_count: comment.reactions.length,
      ...counts,
    },
    performed_via_github_app: comment.user === state.app.bot ? appJson(state.app, urls) : null,
  };
}

export function checkRunJson(run: SimCheckRun, state: SimState, urls: SimUrls) {
  const fullName = fullNameOf(run.repo);
  const api = `${urls.api}/repos/${fullName}`;
  const pulls = state
    .pullsOf(run.repo)
    .filter((pr) => pr.headSha === run.headSha && pr.headRepo === run.repo && pr.state === 'open');
  return {
    id: run.id,
    name: run.name,
    node_id: nodeId('CR_', run.id),
    head_sha: run.headSha,
    external_id: run.externalId ?? '',
    url: `${api}/check-runs/${run.id}`,
    html_url: `${urls.web}/${fullName}/runs/${run.id}`,
    details_url: run.detailsUrl ?? `${urls.web}/${fullName}/runs/${run.id}`,
    status: run.status,
    conclusion: run.conclusion,
    started_at: run.startedAt === null ? null : isoTime(run.startedAt),
    completed_at: run.completedAt === null ? null : isoTime(run.completedAt),
    output: {
      title: run.output.title,
      summary: run.output.summary,
      text: run.output.text,
      annotations_count: 0,
      annotations_url: `${api}/check-runs/${run.id}/annotations`,
    },
    check_suite: { id: run.suiteId },
    app: appJson(state.app, urls),
    pull_requests: pulls.map((pr) => ({
      url: `${api}/pulls/${pr.number}`,
      id: pr.id,
      number: pr.number,
      head: {
        ref: pr.headRef,
        sha: pr.headSha,
        repo: {
          id: pr.headRepo.id,
          url: `${urls.api}/repos/${fullNameOf(pr.headRepo)}`,
          name: pr.headRepo.name,
        },
      },
      base: {
        ref: pr.baseRef,
        sha: pr.repo.branches.get(pr.baseRef) ?? '',
        repo: { id: pr.repo.id, url: api, name: pr.repo.name },
      },
    })),
  };
}

function associationOf(user: SimAccount, repo: SimRepo): string {
  if (user.login.toLowerCase() === repo.owner.login.toLowerCase()) return 'OWNER';
  return repo.collaborators.has(user.login.toLowerCase()) ? 'COLLABORATOR' : 'NONE';
}
