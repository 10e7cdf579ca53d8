import type { ApiRoute, RouteContext } from './api-router.ts';
import { githubError, invalidRequest, notFound, paginate } from './http-kit.ts';
import { CHECKS_READ, CHECKS_WRITE } from './permissions.ts';
import { checkRunJson } from './pull-request-json.ts';
import type { SimCheckRun, SimRepo } from './sim-state.ts';

/** GitHub refuses check-run output summary/text longer than this. */
export const MAX_CHECK_OUTPUT_LENGTH = 65_535;
const STATUSES = ['queued', 'in_progress', 'completed', 'waiting', 'requested', 'pending'];
const CONCLUSIONS = [
  'action_required',
  'cancelled',
  'failure',
  'neutral',
  'success',
  'skipped',
  'stale',
  'timed_out',
];

type RepoContext = RouteContext & { repo: SimRepo };

/** Check runs: create, update, read — validated as GitHub validates them. */
export const checkRunRoutes: ApiRoute[] = [
  {
    method: 'POST',
    path: '/repos/:owner/:repo/check-runs',
    access: 'repo',
    permission: CHECKS_WRITE,
    handle: async (ctx) => {
      const { body } = ctx;
      if (typeof body.name !== 'string' || body.name === '') throw invalidRequest('"name" wasn\'t supplied.');
      if (typeof body.head_sha !== 'string') throw invalidRequest('"head_sha" wasn\'t supplied.');
      if (!(await ctx.git.commitExists(ctx.repo.gitDir, body.head_sha))) {
        throw githubError(422, `No commit found for SHA: ${body.head_sha}`);
      }
      const run: SimCheckRun = {
        id: ctx.state.nextId('check'),
        repo: ctx.repo,
        name: body.name,
        headSha: body.head_sha,
        status: 'queued',
        conclusion: null,
        startedAt: ctx.state.clock(),
        completedAt: null,
        detailsUrl: null,
        externalId: null,
        output: { title: null, summary: null, text: null },
        suiteId: suiteIdFor(ctx, body.head_sha),
      };
      applyChanges(run, ctx);
      ctx.state.checkRuns.set(run.id, run);
      return { status: 201, body: checkRunJson(run, ctx.state, ctx.urls) };
    },
  },
  {
    method: 'PATCH',
    path: '/repos/:owner/:repo/check-runs/:check_run_id',
    access: 'repo',
    permission: CHECKS_WRITE,
    handle: (ctx) => {
      const run = checkRunOf(ctx);
      // Validate on a copy so a refused update changes nothing.
      const draft = { ...run, output: { ...run.output } };
      applyChanges(draft, ctx);
      Object.assign(run, draft);
      return { status: 200, body: checkRunJson(run, ctx.state, ctx.urls) };
    },
  },
  {
    method: 'GET',
    path: '/repos/:owner/:repo/check-runs/:check_run_id',
    access: 'repo',
    permission: CHECKS_READ,
    handle: (ctx) => ({ status: 200, body: checkRunJson(checkRunOf(ctx), ctx.state, ctx.urls) }),
  },
  {
    method: 'GET',
    path: '/repos/:owner/:repo/commits/:ref/check-runs',
    access: 'repo',
    permission: CHECKS_READ,
    handle: (ctx) => {
      const ref = ctx.params.ref ?? '';
      const sha = ctx.repo.branches.get(ref) ?? ref;
      const runs = [...ctx.state.checkRuns.values()]
        .filter((r) => r.repo === ctx.repo && r.headSha === sha)
        .sort((a, b) => b.id - a.id);
      const page = paginate(runs, ctx.url);
      return {
        status: 200,
        body: {
          total_count: runs.length,
          check_runs: page.items.map((r) => checkRunJson(r, ctx.state, ctx.urls)),
        },
        headers: page.headers,
      };
    },
  },
];

function applyChanges(run: SimCheckRun, ctx: RepoContext): void {
  const { body } = ctx;
  const now = ctx.state.clock();
  if (typeof body.name === 'string' && body.name !== '') run.name = body.name;
  if (typeof body.details_url === 'string') run.detailsUrl = body.details_url;
  if (typeof body.external_id === 'string') run.externalId = body.external_id;
  if (typeof body.started_at === 'string') run.startedAt = parseTime(body.started_at, 'started_at');
  if (body.status !== undefined) {
    if (typeof body.status !== 'string' || !STATUSES.includes(body.status)) {
      throw invalidRequest(
        `For 'properties/status', ${JSON.stringify(body.status)} is not a possible value.`,
      );
    }
    run.status = body.status;
  }
  if (body.conclusion !== undefined && body.conclusion !== null) {
    if (typeof body.conclusion !== 'string' || !CONCLUSIONS.includes(body.conclusion)) {
      throw invalidRequest(
        `For 'properties/conclusion', ${JSON.stringify(body.conclusion)} is not a possible value.`,
      );
    }
    // Giving a conclusion completes the run, as on GitHub.
    run.conclusion = body.conclusion;
    run.status = 'completed';
  }
  if (run.status === 'completed') {
    if (!run.conclusion) throw invalidRequest('"conclusion" wasn\'t supplied.');
    run.completedAt =
      typeof body.completed_at === 'string' ? parseTime(body.completed_at, 'completed_at') : now;
  }
  if (body.output !== undefined) applyOutput(run, body.output);
}

function applyOutput(run: SimCheckRun, output: unknown): void {
  if (!output || typeof output !== 'object') throw invalidRequest('"output" must be an object.');
  const { title, summary, text } = output as Record<string, unknown>;
  if (typeof title !== 'string') throw invalidRequest('"title" wasn\'t supplied.');
  if (typeof summary !== 'string') throw invalidRequest('"summary" wasn\'t supplied.');
  for (const [field, value] of [
    ['summary', summary],
    ['text', text],
  ] as const) {
    if (typeof value === 'string' && value.length > MAX_CHECK_OUTPUT_LENGTH) {
      throw invalidRequest(
        `Only ${MAX_CHECK_OUTPUT_LENGTH} characters are allowed in output.${field}; ${value.length} were supplied.`,
      );
    }
  }
  run.output = { title, summary, text: typeof text === 'string' ? text : run.output.text };
}

function parseTime(value: string, field: string): number {
  const ms = Date.parse(value);
  if (Number.isNaN(ms)) throw invalidRequest(`"${field}" is not a valid ISO 8601 timestamp.`);
  return ms;
}

function checkRunOf(ctx: RepoContext): SimCheckRun {
  const run = ctx.state.checkRuns.get(Number(ctx.params.check_run_id));
  if (!run || run.repo !== ctx.repo) throw notFound();
  return run;
}

/** One check suite per (repository, commit), as GitHub groups an App's runs. */
function suiteIdFor(ctx: RepoContext, sha: string): number {
  for (const run of ctx.state.checkRuns.values()) {
    if (run.repo === ctx.repo && run.headSha === sha) return run.suiteId;
  }
  return ctx.state.nextId('suite');
}
