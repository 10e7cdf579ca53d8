import { readdir, readFile } from 'node:fs/promises';
import { basename } from 'node:path';
import {
  ConfigError,
  parseEnv,
  type RedisSentinelTarget,
  type RedisTarget,
  redisEnv,
  redisTargetOf,
} from '@evalbot/config';
import { describeRedisUrl, RedisAccessError, verifyRedisAccess } from '@evalbot/jobs';
import {
  type LocalStack,
  type LocalStackSentinel,
  openMlDemoPullRequest,
  startLocalStack,
} from '@evalbot/local-stack';
import { z } from 'zod';
import { type CliContext, CliError } from '../cli-context.ts';
import { createProgress } from '../progress.ts';
import { watchJobProgress } from './job-progress.ts';
import { type PublishedReport, waitForReport } from './wait-for-report.ts';

export interface DemoOptions {
  workers: number;
  /** Cap on each side's setup and run, and on the whole wait for the report. */
  timeoutMinutes: number;
  /** The directory the demo repository is built from; default `ml-demo/`. */
  sourceDir?: string;
  cacheDir: string;
  logDir: string;
  /** Use this Redis instead of starting a private redis-server. */
  redisUrl?: string;
  /** The CA file of a `rediss://` `redisUrl`. */
  redisTlsCaFile?: string;
  /** Reach Redis through these Sentinels (`--redis-sentinels`, `--redis-sentinel-master`). */
  redisSentinel?: LocalStackSentinel;
  /** After the report, keep everything running until Ctrl-C. */
  keepRunning: boolean;
}

export interface DemoResult {
  report: PublishedReport;
  /** `owner/repo#number` */
  pullRequest: string;
  wallMs: number;
  stackMs: number;
  evaluationMs: number;
}

const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`;

async function hasCachedEnvironments(cacheDir: string): Promise<boolean> {
  const names = await readdir(`${cacheDir}/venvs`).catch(() => [] as string[]);
  return names.some((name) => !name.includes('@') && !name.endsWith('.lock'));
}

/** `recorded` from the gateway's JSON answer; the raw body when it is not that. */
function describeAnswer(body: string): string {
  try {
    const json = JSON.parse(body) as { status?: string; jobId?: string; reason?: string };
    return [json.status, json.jobId && `(job ${json.jobId})`, json.reason].filter(Boolean).join(' ');
  } catch {
    return body.trim();
  }
}

/** What the demo prints on stdout: the PR comment, the check run, the time it took, the logs. */
function describeResult(result: DemoResult, opts: DemoOptions): string {
  const { report } = result;
  const rule = '─'.repeat(72);
  return (
    `\nevalbot's comment on ${result.pullRequest} (${report.commentUrl}):\n${rule}\n` +
    `${report.comment.trimEnd()}\n${rule}\n` +
    `Check run "${report.checkRun.name}": ${report.checkRun.conclusion} — ${report.checkRun.title}\n` +
    `Wall time: ${seconds(result.wallMs)} (evalbot started in ${seconds(result.stackMs)}; label → report ${seconds(result.evaluationMs)})\n` +
    `Logs: ${opts.logDir} (gateway.log, ${Array.from({ length: opts.workers }, (_, i) => `worker-${i + 1}.log`).join(', ')})\n`
  );
}

function untilAborted(signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) resolve();
    signal.addEventListener('abort', () => resolve(), { once: true });
  });
}

/**
 * The demo: evalbot on this machine (Redis, the GitHub stand-in, the gateway, N workers), a PR
 * that changes the model's learning rate, the `evaluate` label added — then wait for the comment
 * and check run, as a PR author would, and print them on stdout. Progress goes to stderr.
 * Everything started is stopped before this returns or throws (also when the user interrupts).
 */
export async function runDemo(opts: DemoOptions, ctx: CliContext): Promise<DemoResult> {
  const started = Date.now();
  const progress = createProgress({ stream: ctx.stderr, env: ctx.env });
  const logHint = `logs: ${opts.logDir}`;
  let stack: LocalStack | undefined;
  let jobs: ReturnType<typeof watchJobProgress> | undefined;
  const tlsCa = opts.redisTlsCaFile ? await readCaFile(opts.redisTlsCaFile) : undefined;
  const sentinel = opts.redisSentinel ? sentinelOf(opts.redisSentinel, opts.redisUrl) : undefined;
  // Through Sentinel, the URL only carries the credentials; its host is the master's name.
  const redisUrl = opts.redisUrl ?? (sentinel ? `redis://${sentinel.name}` : undefined);
  // The Redis the flags name; none: the stack starts a private redis-server.
  const redis: RedisTarget | undefined = redisUrl
    ? { url: redisUrl, ...(tlsCa ? { tlsCa } : {}), ...(sentinel ? { sentinel } : {}) }
    : undefined;
  if (redis) await checkRedis(redis);
  try {
    const starting = progress.task(
      `Starting evalbot: ${sentinel ? 'Redis through --redis-sentinels' : opts.redisUrl ? 'Redis at --redis-url' : 'redis-server'}, the GitHub stand-in, the gateway, ${opts.workers} worker${opts.workers === 1 ? '' : 's'}`,
    );
    try {
      stack = await startLocalStack({
        workers: opts.workers,
        cacheDir: opts.cacheDir,
        logDir: opts.logDir,
        ...(redisUrl ? { redisUrl } : {}),
        ...(opts.redisTlsCaFile ? { redisTlsCaFile: opts.redisTlsCaFile } : {}),
        ...(opts.redisSentinel ? { redisSentinel: opts.redisSentinel } : {}),
        workerEnv: { EVALBOT_MAX_TIMEOUT_MINUTES: String(Math.max(1, Math.ceil(opts.timeoutMinutes))) },
      });
    } catch (error) {
      starting.fail();
      throw new CliError(`could not start the local stack: ${(error as Error).message}\n(${logHint})`);
    }
    const stackMs = Date.now() - started;
    starting.succeed(`gateway ${stack.webhookUrl}`);
    if (ctx.signal.aborted) throw new CliError('interrupted; stopping the local stack', 130);

    const pr = await openMlDemoPullRequest(stack.sim, opts.sourceDir ? { sourceDir: opts.sourceDir } : {});
    const repository = `${pr.owner}/${pr.repo}`;
    progress.log(
      `Opened PR #${pr.number} in ${repository} (from ${opts.sourceDir ? basename(opts.sourceDir) : 'ml-demo'}/): ` +
        `"Raise the learning rate to 0.005", head ${pr.headSha.slice(0, 7)} on base ${pr.baseSha.slice(0, 7)}`,
    );
    if (!(await hasCachedEnvironments(opts.cacheDir)))
      progress.log(
        `First run: the workers build the Python environment from requirements.txt (TensorFlow: ~30–60 s) in ${opts.cacheDir}; later runs reuse it.`,
      );

    const labeledAt = Date.now();
    const answer = await stack.deliver(pr.labeledDelivery());
    progress.log(
      `Added the "evaluate" label; the gateway answered the pull_request delivery: ${answer.status} ${describeAnswer(answer.body)}`,
    );
    if (answer.status !== 202) throw new CliError(`the gateway did not queue the evaluation (${logHint})`);

    jobs = watchJobProgress({
      redis: redis ?? { url: stack.redisUrl },
      prefix: stack.prefix,
      progress,
    });
    const report = await waitForReport({
      stack,
      pr,
      jobs,
      progress,
      signal: ctx.signal,
      timeoutMs: opts.timeoutMinutes * 60_000,
      logHint,
    });
    const evaluationMs = Date.now() - labeledAt;
    progress.log(`evalbot published its report ${seconds(evaluationMs)} after the label was added`);
    progress.stop();
    const result: DemoResult = {
      report,
      pullRequest: `${repository}#${pr.number}`,
      wallMs: Date.now() - started,
      stackMs,
      evaluationMs,
    };
    ctx.stdout.write(describeResult(result, opts));

    if (opts.keepRunning) {
      ctx.stderr.write(
        `\nStill running (Ctrl-C to stop):\n  GitHub stand-in API ${stack.sim.url} (git ${stack.sim.gitUrl})\n` +
          `  gateway ${stack.webhookUrl}\n  Redis ${stack.redisUrl} (key prefix ${stack.prefix})\n` +
          `  PR ${report.commentUrl}\n`,
      );
      await untilAborted(ctx.signal);
    }
    return result;
  } finally {
    progress.stop();
    await jobs?.close().catch(() => {});
    if (stack) {
      ctx.stderr.write(
        `Stopping the workers, the gateway, the GitHub stand-in${stack.redis ? ' and redis-server' : ''}…\n`,
      );
      await stack.close();
    }
  }
}

async function readCaFile(path: string): Promise<string> {
  try {
    return await readFile(path, 'utf8');
  } catch (error) {
    throw new CliError(`--redis-ca-file: cannot read ${path}: ${(error as Error).message}`, 78);
  }
}

/**
 * A --redis-url that refuses its password or whose certificate cannot be trusted stops the demo
 * before anything starts, with what to fix, rather than as a gateway that never gets ready.
 */
async function checkRedis(redis: RedisTarget): Promise<void> {
  const { url, sentinel } = redis;
  try {
    if (await verifyRedisAccess(redis)) return;
  } catch (error) {
    if (error instanceof RedisAccessError) {
      // A Sentinel's refusal (its password, the master name) is about the Sentinel flags.
      const flag = error.message.includes('REDIS_SENTINEL') ? '--redis-sentinels' : '--redis-url';
      throw new CliError(
        `${flag}: ${error.message
          .replace(/REDIS_URL/g, '--redis-url')
          .replace(/REDIS_TLS_CA_FILE/g, '--redis-ca-file')
          .replace(/REDIS_SENTINEL_MASTER/g, '--redis-sentinel-master')}`,
        78,
      );
    }
    throw error;
  }
  if (sentinel)
    throw new CliError(
      `--redis-sentinels: no Sentinel of ${sentinel.sentinels.map((s) => `${s.host}:${s.port}`).join(',')} names a reachable master "${sentinel.name}"; start them or fix --redis-sentinels and --redis-sentinel-master`,
      69,
    );
  throw new CliError(
    `--redis-url: no Redis answers at ${describeRedisUrl(url)}; start it or fix the URL`,
    69,
  );
}

const FLAG_OF: Record<string, string> = {
  REDIS_URL: '--redis-url',
  REDIS_SENTINELS: '--redis-sentinels',
  REDIS_SENTINEL_MASTER: '--redis-sentinel-master',
};

/** The Sentinel flags, checked as the apps check REDIS_SENTINELS (exit 64 with what to fix). */
function sentinelOf(flags: LocalStackSentinel, redisUrl: string | undefined): RedisSentinelTarget {
  try {
    const parsed = parseEnv(z.object(redisEnv), {
      REDIS_URL: redisUrl ?? `redis://${flags.master || 'master'}`,
      REDIS_SENTINELS: flags.sentinels || undefined,
      REDIS_SENTINEL_MASTER: flags.master || undefined,
    });
    const sentinel = redisTargetOf(parsed).sentinel;
    if (sentinel) return sentinel;
    throw new CliError(
      '--redis-sentinel-master needs --redis-sentinels: list the Sentinels as host:port,host:port',
      64,
    );
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    const problems = error.problems.map((p) => {
      const flag = FLAG_OF[p.variable] ?? p.variable;
      return `${flag}: ${p.problem.replace(/REDIS_SENTINEL_MASTER|REDIS_SENTINELS|REDIS_URL/g, (v) => FLAG_OF[v] ?? v)}`;
    });
    throw new CliError(problems.join('\n'), 64);
  }
}
