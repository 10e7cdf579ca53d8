import { type SideOutcome, sideOutcomeSchema } from '@evalbot/jobs';
import type { EvaluateResult } from './evaluate-options.ts';

/**
 * The `SideOutcome` to store for an `evaluateCommit` result: the extras (`configError`,
 * `cancelled`) dropped, an invalid `.evalbot.yml`'s problems kept as `configProblems` so the
 * report can list each key and its fix. The worker's evaluate job and the CLI both use it, so
 * a report is built from the same shape wherever the commit was evaluated.
 */
export function toSideOutcome(result: EvaluateResult): SideOutcome {
  return sideOutcomeSchema.parse({
    ...result,
    ...(result.configError ? { configProblems: result.configError.problems } : {}),
  });
}
