import type { Env } from '@evalbot/config';
import { evaluateCommit, InfrastructureError, type Sandbox, toSideOutcome } from '@evalbot/evaluator';
import type { SideOutcome } from '@evalbot/jobs';
import { shortSha } from '@evalbot/report';
import { CliError } from '../cli-context.ts';
import type { Progress } from '../progress.ts';
import { describeOutcome } from './describe-outcome.ts';

export interface EvaluateSidesOptions {
  /** Top directory of the local repository (only read). */
  repo: string;
  headSha: string;
  baseSha: string;
  workRoot: string;
  cacheDir: string;
  maxTimeoutMs: number;
  /** One side after the other (base first) instead of both at once. */
  sequential: boolean;
  /** Aborting kills what runs (the whole process group) on both sides. */
  signal: AbortSignal;
  progress: Progress;
  /** Where the evaluator reads PATH, LANG and pip's mirror variables. */
  workerEnv: Env;
  /** Where both commits' code runs (`openSandbox`). */
  sandbox: Sandbox | 'unsafe-none';
}

export interface EvaluatedSides {
  head: SideOutcome;
  base: SideOutcome;
  /** True when the user interrupted: the outcomes are incomplete. */
  cancelled: boolean;
}

/**
 * Evaluate the head and the base commit of a local repository with the same evaluator the
 * worker uses: both at once by default, as the worker's two evaluate jobs run, or one after
 * the other. Each side's progress is a task of `progress`. The PR's own failures come back as
 * failed outcomes; anything else (git cannot read the repository) aborts the other side and
 * is thrown as a `CliError`.
 */
export async function evaluateSides(opts: EvaluateSidesOptions): Promise<EvaluatedSides> {
  const stopBoth = new AbortController();
  const stop = () => stopBoth.abort(opts.signal.reason);
  if (opts.signal.aborted) stop();
  opts.signal.addEventListener('abort', stop, { once: true });
  let cancelled = false;

  const evaluate = async (side: 'head' | 'base', sha: string): Promise<SideOutcome> => {
    const task = opts.progress.task(`${side} ${shortSha(sha)}`);
    try {
      const result = await evaluateCommit({
        source: { path: opts.repo, sha },
        side,
        // As the worker does: the head runs with the base's repeats and seed.
        ...(side === 'head' ? { verdictSettingsFrom: { sha: opts.baseSha } } : {}),
        workRoot: opts.workRoot,
        cacheDir: opts.cacheDir,
        maxTimeoutMs: opts.maxTimeoutMs,
        signal: stopBoth.signal,
        workerEnv: opts.workerEnv,
        sandbox: opts.sandbox,
        onProgress: (p) => {
          const first = p.stage === 'setup' && p.message.startsWith('preparing');
          task.update(
            first ? `${p.stage}: ${p.message} (built once, then cached)` : `${p.stage}: ${p.message}`,
            p.percent,
          );
        },
      });
      if (result.cancelled) cancelled = true;
      // The same shape the evaluate job stores, so the report is built exactly as the worker's.
      const outcome = toSideOutcome(result);
      if (outcome.ok) task.succeed(describeOutcome(outcome));
      else task.fail(describeOutcome(outcome));
      return outcome;
    } catch (error) {
      task.fail((error as Error).message);
      stopBoth.abort(error);
      throw error;
    }
  };

  try {
    let head: SideOutcome;
    let base: SideOutcome;
    if (opts.sequential) {
      base = await evaluate('base', opts.baseSha);
      head = await evaluate('head', opts.headSha);
    } else {
      const [headResult, baseResult] = await Promise.allSettled([
        evaluate('head', opts.headSha),
        evaluate('base', opts.baseSha),
      ]);
      if (headResult.status === 'rejected') throw headResult.reason;
      if (baseResult.status === 'rejected') throw baseResult.reason;
      head = headResult.value;
      base = baseResult.value;
    }
    return { head, base, cancelled: cancelled || opts.signal.aborted };
  } catch (error) {
    if (error instanceof InfrastructureError)
      throw new CliError(`could not read the commits from ${opts.repo}: ${error.message}`);
    throw error;
  } finally {
    opts.signal.removeEventListener('abort', stop);
  }
}
