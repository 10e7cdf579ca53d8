import { evaluateCommit, type Sandbox, toSideOutcome } from '@evalbot/evaluator';
import { cloneScope, type GitHubApp, gitCredentialEnv } from '@evalbot/github';
import {
  type EvaluateJob,
  evaluationKeyOf,
  fetchRefsFor,
  jobCatalog,
  pullRequestKeyOf,
  readPullRequestHead,
  type SideOutcome,
} from '@evalbot/jobs';
import type { Logger } from '@evalbot/logger';
import type { Redis } from 'ioredis';
import type { WorkerConfig } from '../env.ts';
import { mayRunHead } from '../fork-guard.ts';
import { HandBackError } from '../hand-back-error.ts';
import type { ReportPublisher } from '../publishing/index.ts';
import type { ResultCache } from '../result-cache.ts';
import { abortReasonOf, type RunningEvaluations } from '../running-evaluations.ts';
import { sideNotEvaluated } from '../side-not-evaluated.ts';
import type { EnvironmentCacheResult, WorkerMetrics } from '../worker-metrics.ts';
import type { JobContext } from './job-context.ts';

export interface EvaluateSideDeps {
  config: Pick<
    WorkerConfig,
    'prefix' | 'workDir' | 'cacheDir' | 'cacheMaxBytes' | 'maxTimeoutMs' | 'githubUrl' | 'pipEnv' | 'python'
  >;
  redis: Redis;
  github: GitHubApp;
  running: RunningEvaluations;
  /** Results by content, shared by all sides of the repository (or its opted-in group). */
  results: ResultCache;
  publisher: ReportPublisher;
  metrics: WorkerMetrics;
  logger: Logger;
  /** Where PR code runs; `'unsafe-none'` only with EVALBOT_UNSAFE_NO_SANDBOX. */
  sandbox: Sandbox | 'unsafe-none';
  /** The compare job's id (the evaluation), from the job's parent. */
  evaluationIdOf(job: JobContext): string;
  /** The GPU this training may use (CUDA_VISIBLE_DEVICES), leased by a pool's worker. */
  gpuDevice?: string;
}

/**
 * Evaluate one side of a PR (the evaluate queue's processor): skip work the PR no longer
 * wants, reuse the result of the same content evaluated before, else fetch, prepare, train and measure the commit with the
 * installation's credential. The PR's own failures are returned; infrastructure errors thrown.
 */
export async function evaluateSide(
  raw: unknown,
  job: JobContext,
  deps: EvaluateSideDeps,
): Promise<SideOutcome> {
  const data = jobCatalog.evaluate.parse(raw);
  const { pr, request, side } = data;
  const prKey = pullRequestKeyOf(pr);
  const log = deps.logger.child({ deliveryId: request.deliveryId, jobId: job.id, pr: prKey, side });
  deps.metrics.queueWaitSeconds.observe(
    { queue: 'evaluate' },
    Math.max(0, Date.now() - job.enqueuedAt) / 1000,
  );

  const wanted = await readPullRequestHead(deps.redis, deps.config.prefix, prKey);
  if (wanted !== null && wanted !== pr.headSha) {
    await job.log(`not run: the PR now wants ${wanted}`);
    return sideNotEvaluated(data.sha, wanted === 'cancelled' ? 'cancelled' : `superseded by ${wanted}`);
  }
  const evaluationKey = evaluationKeyOf(pr);
  const guard = { github: deps.github, redis: deps.redis, prefix: deps.config.prefix, log };
  if (!(await mayRunHead(guard, { pr, request, evaluationKey }))) {
    await job.log('not run: new commits on a fork by an author without write access');
    return sideNotEvaluated(data.sha, 'not run: a maintainer must approve new commits from this fork');
  }

  // The ⏳ comment and the check run go up once the side is known to train, while it does:
  // they wait on GitHub, the per-PR lock and Octokit's pacing of writes (~1.5 s), and the
  // evaluation needs none of them. A side whose result is reused posts nothing: when both are,
  // the report is the first write (the check run created completed), seconds sooner. The job
  // returns only once they are up, so the compare job always comes after; if they fail, the
  // evaluation stops and the job fails as before.
  const publishContext = { pr, request, evaluationId: deps.evaluationIdOf(job), log };
  const signal = deps.running.start(job.id, prKey, pr.headSha);
  let publishFailure: { error: unknown } | undefined;
  let publishing: Promise<void> | undefined;
  const onEvaluating = () => {
    publishing ??= deps.publisher.started(publishContext).catch((error: unknown) => {
      publishFailure = { error };
      deps.running.abort(job.id, { kind: 'cancelled', why: 'the progress comment could not be posted' });
    });
  };
  let outcome: SideOutcome;
  try {
    outcome = await evaluateOrReuse(data, job, deps, { signal, log, onEvaluating });
  } finally {
    deps.running.finish(job.id);
    await publishing;
  }
  if (publishFailure) throw publishFailure.error;
  return outcome;
}

async function evaluateOrReuse(
  data: EvaluateJob,
  job: JobContext,
  deps: EvaluateSideDeps,
  { signal, log, onEvaluating }: { signal: AbortSignal; log: Logger; onEvaluating: () => void },
): Promise<SideOutcome> {
  const { pr, side } = data;
  const prKey = pullRequestKeyOf(pr);
  // The PR may have moved on between the first check and registering: look once more.
  const latest = await readPullRequestHead(deps.redis, deps.config.prefix, prKey);
  if (latest !== null && latest !== pr.headSha) deps.running.applyPullRequestState(prKey, latest);

  // Enough to fetch this one repository, and nothing else.
  const token = await deps.github.installationToken(pr.installationId, cloneScope(pr.repo));
  const result = await evaluateCommit({
    source: {
      url: pr.cloneUrl,
      fetchRefs: data.fetchRefs,
      sha: data.sha,
      gitEnv: gitCredentialEnv(token, { url: pr.cloneUrl }),
    },
    side,
    // The head runs with the base's repeats and seed, so a PR cannot choose its own noise.
    ...(side === 'head'
      ? { verdictSettingsFrom: { sha: pr.baseSha, fetchRefs: fetchRefsFor(pr, 'base') } }
      : {}),
    results: { store: deps.results, scope: deps.results.scopeOf(`${pr.owner}/${pr.repo}`) },
    workRoot: deps.config.workDir,
    cacheDir: deps.config.cacheDir,
    maxTimeoutMs: deps.config.maxTimeoutMs,
    allowedOrigin: deps.config.githubUrl,
    signal,
    secrets: [token],
    workerEnv: {
      PATH: process.env.PATH,
      LANG: process.env.LANG,
      ...deps.config.pipEnv,
      ...(deps.gpuDevice !== undefined ? { CUDA_VISIBLE_DEVICES: deps.gpuDevice } : {}),
    },
    sandbox: deps.sandbox,
    python: deps.config.python,
    onProgress: (p) => {
      job.updateProgress({ side, ...p }).catch(() => {});
      job.log(`[${p.stage}] ${p.message}`).catch(() => {});
    },
    onLog: (line) => {
      job.logLive(line).catch(() => {});
    },
    onOutput: (line) => job.logOutput(line),
    onEvaluating,
    onEnvironmentCache: (result) =>
      deps.metrics.environmentCache.inc({ result: result satisfies EnvironmentCacheResult }),
    cacheMaxBytes: deps.config.cacheMaxBytes,
    onCacheSize: ({ bytes, evicted }) => {
      deps.metrics.environmentCacheBytes.set(bytes);
      deps.metrics.environmentCacheEvictions.inc(evicted.length);
    },
  });
  // A reused result carries the stages of the run that made it: they were observed then.
  if (!result.resultReused) {
    for (const [stage, ms] of Object.entries(result.durations)) {
      deps.metrics.stageSeconds.observe({ stage }, ms / 1000);
    }
  }
  if (result.cancelled) {
    const reason = abortReasonOf(signal);
    if (reason?.kind === 'shutdown') throw new HandBackError();
    log.info({ reason }, 'evaluation stopped');
  }
  const outcome = toSideOutcome(result);
  if (outcome.resultReused) deps.metrics.resultCache.inc({ result: 'hit' });
  else if (outcome.ok) deps.metrics.resultCache.inc({ result: 'miss' });
  log.info(
    {
      ok: outcome.ok,
      durations: outcome.durations,
      resultReused: outcome.resultReused,
      resultReusedFrom: outcome.resultReusedFrom,
      environment: outcome.resultReused
        ? 'reused result'
        : outcome.environmentReused
          ? 'reused'
          : outcome.environmentDerivedFrom
            ? `derived from ${outcome.environmentDerivedFrom}`
            : 'built',
    },
    'side evaluated',
  );
  return outcome;
}
