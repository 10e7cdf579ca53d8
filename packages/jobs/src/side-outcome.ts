import { z } from 'zod';

/** Where an evaluation of one side failed. */
export const stageSchema = z.enum(['clone', 'config', 'setup', 'run', 'metrics']);
export type Stage = z.infer<typeof stageSchema>;

/** One run of the model: final metrics and optional per-epoch history. */
export const runResultSchema = z.object({
  seed: z.number().int(),
  metrics: z.record(z.string(), z.number()),
  /** Per-epoch series (e.g. `loss`, `val_accuracy`), drawn as charts. */
  history: z.record(z.string(), z.array(z.number())).default({}),
  /**
   * A series sampled evenly to fewer points than its epochs (first and last kept): how many
   * epochs it stands for. Absent: one point per epoch.
   */
  historyEpochs: z.record(z.string(), z.number().int().positive()).optional(),
  durationMs: z.number().nonnegative(),
});
export type RunResult = z.infer<typeof runResultSchema>;

const durationsSchema = z.partialRecord(stageSchema, z.number().nonnegative());

const common = {
  sha: z.string(),
  /** Milliseconds per stage (`run` covers all repeats). */
  durations: durationsSchema,
  /** The last lines of setup and run output, secrets redacted, capped. */
  logTail: z.string(),
  /** Python version and key package versions, where they could be read. */
  environment: z
    .object({ python: z.string().optional(), packages: z.record(z.string(), z.string()).default({}) })
    .default({ packages: {} }),
  /** True when the virtual environment came from the cache. */
  environmentReused: z.boolean().default(false),
  /**
   * The commit whose cached environment this one was derived from (copied, then only the
   * difference installed), when it was not reused whole nor built from nothing.
   */
  environmentDerivedFrom: z.string().optional(),
  /** True when this whole result came from the result cache (no training). */
  resultReused: z.boolean().default(false),
  /** The commit whose result was reused: the same content as this one (see `resultReused`). */
  resultReusedFrom: z.string().optional(),
  /**
   * The commit's parsed `.evalbot.yml` (defaults filled in), when it could be read. The compare
   * job takes directions and thresholds from the base side's, so a PR cannot loosen its gate.
   */
  config: z.record(z.string(), z.unknown()).optional(),
};

export const sideSuccessSchema = z.object({
  ok: z.literal(true),
  ...common,
  runs: z.array(runResultSchema).min(1),
});
export const sideFailureSchema = z.object({
  ok: z.literal(false),
  ...common,
  stage: stageSchema,
  /** What went wrong, in words a PR author can act on. */
  message: z.string(),
  /** For stage `config`: each bad key of `.evalbot.yml`, the problem and the fix. */
  configProblems: z.array(z.object({ key: z.string(), problem: z.string(), fix: z.string() })).optional(),
  /** Metrics of repeats that did finish before the failure, if any. */
  runs: z.array(runResultSchema).default([]),
});
/** The result of evaluating one side: what the evaluate job returns and the compare job reads. */
export const sideOutcomeSchema = z.discriminatedUnion('ok', [sideSuccessSchema, sideFailureSchema]);
export type SideSuccess = z.infer<typeof sideSuccessSchema>;
export type SideFailure = z.infer<typeof sideFailureSchema>;
export type SideOutcome = z.infer<typeof sideOutcomeSchema>;
