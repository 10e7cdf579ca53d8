import type { ApiRoute, RouteContext } from './api-router.ts';
import { githubError, invalidRequest, notFound, paginate, validationFailed } from './http-kit.ts';
import { ISSUES_READ, ISSUES_WRITE } from './permissions.ts';
import { commentJson, reactionJson } from './pull-request-json.ts';
import { labelJson } from './repository-json.ts';
import type { SimAccount, SimComment, SimPullRequest, SimRepo } from './sim-state.ts';

/** GitHub refuses comment bodies longer than this. */
export const MAX_COMMENT_LENGTH = 65_536;
const REACTIONS = ['+1', '-1', 'laugh', 'confused', 'heart', 'hooray', 'rocket', 'eyes'];

/** Issue comments, their reactions, and labels: what evalbot reads and writes on a PR's conversation. */
export const issueRoutes: ApiRoute[] = [
  {
    method: 'GET',
    path: '/repos/:owner/:repo/issues/comments/:comment_id',
    access: 'repo',
    permission: ISSUES_READ,
    handle: (ctx) => ({ status: 200, body: commentJson(commentOf(ctx), ctx.state, ctx.urls) }),
  },
  {
    method: 'PATCH',
    path: '/repos/:owner/:repo/issues/comments/:comment_id',
    access: 'repo',
    permission: ISSUES_WRITE,
    handle: (ctx) => {
      const comment = commentOf(ctx);
      comment.body = bodyOf(ctx);
      comment.updatedAt = ctx.state.clock();
      return { status: 200, body: commentJson(comment, ctx.state, ctx.urls) };
    },
  },
  {
    method: 'DELETE',
    path: '/repos/:owner/:repo/issues/comments/:comment_id',
    access: 'repo',
    permission: ISSUES_WRITE,
    handle: (ctx) => {
      ctx.state.comments.delete(commentOf(ctx).id);
      return { status: 204 };
    },
  },
  {
    method: 'GET',
    path: '/repos/:owner/:repo/issues/comments/:comment_id/reactions',
    access: 'repo',
    permission: ISSUES_READ,
    handle: (ctx) => {
      const page = paginate(commentOf(ctx).reactions, ctx.url);
      return { status: 200, body: page.items.map((r) => reactionJson(r, ctx.urls)), headers: page.headers };
    },
  },
  {
    method: 'POST',
    path: '/repos/:owner/:repo/issues/comments/:comment_id/reactions',
    access: 'repo',
    permission: ISSUES_WRITE,
    handle: (ctx) => {
      const comment = commentOf(ctx);
      const content = ctx.body.content;
      if (typeof content !== 'string' || !REACTIONS.includes(content)) {
        throw invalidRequest(`"content" must be one of: ${REACTIONS.map((r) => `"${r}"`).join(', ')}.`);
      }
      const user = actorOf(ctx);
      const existing = comment.reactions.find((r) => r.content === content && r.user === user);
      if (existing) return { status: 200, body: reactionJson(existing, ctx.urls) };
      const reaction = { id: ctx.state.nextId('reaction'), content, user, createdAt: ctx.state.clock() };
      comment.reactions.push(reaction);
      return { status: 201, body: reactionJson(reaction, ctx.urls) };
    },
  },
  {
    method: 'GET',
    path: '/repos/:owner/:repo/issues/:issue_number/comments',
    access: 'repo',
    permission: ISSUES_READ,
    handle: (ctx) => {
      const pr = pullOf(ctx);
      const comments = [...ctx.state.comments.values()]
        .filter((c) => c.repo === ctx.repo && c.issueNumber === pr.number)
        .sort((a, b) => a.id - b.id);
      const page = paginate(comments, ctx.url);
      return {
        status: 200,
        body: page.items.map((c) => commentJson(c, ctx.state, ctx.urls)),
        headers: page.headers,
      };
    },
  },
  {
    method: 'POST',
    path: '/repos/:owner/:repo/issues/:issue_number/comments',
    access: 'repo',
    permission: ISSUES_WRITE,
    handle: (ctx) => {
      const pr = pullOf(ctx);
      const now = ctx.state.clock();
      const comment: SimComment = {
        id: ctx.state.nextId('comment'),
        repo: ctx.repo,
        issueNumber: pr.number,
        body: bodyOf(ctx),
        user: actorOf(ctx),
        createdAt: now,
        updatedAt: now,
        reactions: [],
      };
      ctx.state.comments.set(comment.id, comment);
      const json = commentJson(comment, ctx.state, ctx.urls);
      return { status: 201, body: json, headers: { location: json.url } };
    },
  },
  {
    method: 'GET',
    path: '/repos/:owner/:repo/issues/:issue_number/labels',
    access: 'repo',
    permission: ISSUES_READ,
    handle: (ctx) => ({ status: 200, body: labelsJson(ctx.repo, pullOf(ctx), ctx) }),
  },
  {
    method: 'POST',
    path: '/repos/:owner/:repo/issues/:issue_number/labels',
    access: 'repo',
    permission: ISSUES_WRITE,
    handle: (ctx) => {
      const pr = pullOf(ctx);
      const names = Array.isArray(ctx.body.labels) ? ctx.body.labels.map(String) : undefined;
      if (!names) throw invalidRequest('"labels" wasn\'t supplied.');
      for (const name of names) addLabel(ctx, pr, name);
      return { status: 200, body: labelsJson(ctx.repo, pr, ctx) };
    },
  },
  {
    method: 'DELETE',
    path: '/repos/:owner/:repo/issues/:issue_number/labels/:name',
    access: 'repo',
    permission: ISSUES_WRITE,
    handle: (ctx) => {
      const pr = pullOf(ctx);
      const wanted = (ctx.params.name ?? '').toLowerCase();
      const index = pr.labels.findIndex((l) => l.toLowerCase() === wanted);
      if (index < 0) throw githubError(404, 'Label does not exist');
      pr.labels.splice(index, 1);
      pr.updatedAt = ctx.state.clock();
      return { status: 200, body: labelsJson(ctx.repo, pr, ctx) };
    },
  },
];

/** Add a label to a PR, creating the repository label on first use (as GitHub does). */
export function addLabel(ctx: Pick<RouteContext, 'state'>, pr: SimPullRequest, name: string): void {
  const key = name.toLowerCase();
  if (!pr.repo.labels.has(key)) {
    pr.repo.labels.set(key, { id: ctx.state.nextId('label'), name, color: 'ededed', description: null });
  }
  if (!pr.labels.some((l) => l.toLowerCase() === key)) pr.labels.push(pr.repo.labels.get(key)?.name ?? name);
  pr.updatedAt = ctx.state.clock();
}

function labelsJson(repo: SimRepo, pr: SimPullRequest, ctx: RouteContext) {
  return pr.labels.flatMap((name) => {
    const label = repo.labels.get(name.toLowerCase());
    return label ? [labelJson(label, repo, ctx.urls)] : [];
  });
}

type RepoContext = RouteContext & { repo: SimRepo };

function pullOf(ctx: RepoContext): SimPullRequest {
  const number = Number(ctx.params.issue_number);
  const pr = Number.isInteger(number) ? ctx.state.pull(ctx.repo, number) : undefined;
  if (!pr) throw notFound();
  return pr;
}

function commentOf(ctx: RepoContext): SimComment {
  const comment = ctx.state.comments.get(Number(ctx.params.comment_id));
  if (!comment || comment.repo !== ctx.repo) throw notFound();
  return comment;
}

function bodyOf(ctx: RouteContext): string {
  const body = ctx.body.body;
  if (typeof body !== 'string') throw invalidRequest('"body" wasn\'t supplied.');
  if (body.length > MAX_COMMENT_LENGTH) {
    throw validationFailed(
      'IssueComment',
      'data',
      `Body is too long (maximum is ${MAX_COMMENT_LENGTH} characters)`,
      'unprocessable',
    );
  }
  return body;
}

/** Installation tokens act as the App's bot account. */
function actorOf(ctx: RouteContext): SimAccount {
  return ctx.state.app.bot;
}
