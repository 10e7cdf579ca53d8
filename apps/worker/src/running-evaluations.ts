/** Why a running evaluation was stopped before it finished. */
export type AbortReason =
  | { kind: 'superseded'; newHeadSha: string }
  | { kind: 'cancelled'; why: string }
  | { kind: 'shutdown' };

interface Running {
  prKey: string;
  headSha: string;
  controller: AbortController;
}

/**
 * The evaluations this process is running, so that a new push, a closed PR or SIGTERM can
 * stop their training at once (the evaluator kills the process group on abort).
 */
export class RunningEvaluations {
  private readonly running = new Map<string, Running>();

  /** Register a job; the returned signal aborts with an {@link AbortReason}. */
  start(jobId: string, prKey: string, headSha: string): AbortSignal {
    const controller = new AbortController();
    this.running.set(jobId, { prKey, headSha, controller });
    return controller.signal;
  }

  /** Abort one job's evaluation (no-op when it is not running). */
  abort(jobId: string, reason: AbortReason): void {
    const entry = this.running.get(jobId);
    if (entry && !entry.controller.signal.aborted) entry.controller.abort(reason);
  }

  finish(jobId: string): void {
    this.running.delete(jobId);
  }

  /** Abort every evaluation of `prKey` whose head is not `latestHeadSha` (null: the PR's work is cancelled). */
  applyPullRequestState(prKey: string, latestHeadSha: string | null, why = 'evaluation cancelled'): number {
    let aborted = 0;
    for (const entry of this.running.values()) {
      if (entry.prKey !== prKey || entry.headSha === latestHeadSha || entry.controller.signal.aborted)
        continue;
      const reason: AbortReason = latestHeadSha
        ? { kind: 'superseded', newHeadSha: latestHeadSha }
        : { kind: 'cancelled', why };
      entry.controller.abort(reason);
      aborted += 1;
    }
    return aborted;
  }

  /** Abort everything (SIGTERM): the jobs are handed back to the queue. */
  abortAll(): void {
    for (const entry of this.running.values())
      entry.controller.abort({ kind: 'shutdown' } satisfies AbortReason);
  }

  get size(): number {
    return this.running.size;
  }
}

export function abortReasonOf(signal: AbortSignal | undefined): AbortReason | undefined {
  const reason: unknown = signal?.aborted ? signal.reason : undefined;
  if (reason && typeof reason === 'object' && 'kind' in reason) return reason as AbortReason;
  return undefined;
}
