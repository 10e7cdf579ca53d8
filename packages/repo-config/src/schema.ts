import { z } from 'zod';

export const directionSchema = z.enum(['higher', 'lower', 'neutral'], {
  error: 'use higher (bigger is better), lower (smaller is better) or neutral',
});
export type Direction = z.infer<typeof directionSchema>;

/** Per-metric settings. A threshold fails the check when the head is worse than the base by more. */
export const metricSettingsSchema = z.strictObject({
  direction: directionSchema.optional(),
  /** Fail when the metric gets worse by more than this, in the metric's own units (0.005 = 0.5 points of accuracy). */
  fail_if_worse_by: z.number().nonnegative().optional(),
  /** Fail when the metric gets worse by more than this percentage of the base value. */
  fail_if_worse_by_pct: z.number().nonnegative().optional(),
});
export type MetricSettings = z.infer<typeof metricSettingsSchema>;

const relativePath = z
  .string()
  .min(1)
  .refine((p) => !p.startsWith('/') && !p.split(/[\\/]/).includes('..'), {
    message: 'must be a path inside the repository (relative, no "..")',
  });

const envName = z
  .string()
  .regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'is not a valid environment variable name')
  // evalbot sets EVALBOT_SEED (and may set more) itself; a repo must not be able to override them.
  .refine((name) => !name.toUpperCase().startsWith('EVALBOT_'), { message: 'is reserved for evalbot' });

/** Metrics settings; a threshold needs a direction, since "worse" means nothing for a neutral metric. */
const metricsSchema = z.record(z.string().min(1), metricSettingsSchema).superRefine((metrics, ctx) => {
  for (const [name, settings] of Object.entries(metrics)) {
    const gated = settings.fail_if_worse_by !== undefined || settings.fail_if_worse_by_pct !== undefined;
    if (gated && settings.direction === 'neutral') {
      ctx.addIssue({
        code: 'custom',
        path: [name, 'direction'],
        message: 'is neutral, but the metric has a threshold: nothing can be "worse" without a direction',
        input: settings.direction,
      });
    }
  }
});

/** The `.evalbot.yml` file at the repository root. Every key is optional. */
export const repoConfigSchema = z.strictObject({
  /** Requirements file for the cached virtual environment; `false` for none. */
  requirements: z.union([relativePath, z.literal(false)]).default('requirements.txt'),
  /** Extra setup commands, run after the environment is ready, before `run`. One command may be a string. */
  setup: z
    .union([
      z
        .string()
        .min(1)
        .transform((command) => [command]),
      z.array(z.string().min(1)),
    ])
    .default([]),
  /** The command that trains and evaluates, writing the metrics file. */
  run: z.string().min(1).default('python3 demo.py'),
  /** Where `run` writes its metrics: JSON object of numbers, or a Python dict literal. */
  metrics_file: relativePath.default('result.txt'),
  /** Directory (inside the repository) where commands run. */
  working_directory: relativePath.default('.'),
  /** Time limit for setup + run, in minutes (capped by the worker's maximum). */
  timeout_minutes: z
    .number()
    .positive()
    .max(24 * 60)
    .default(30),
  /** Non-secret environment variables for setup and run. */
  env: z.record(envName, z.union([z.string(), z.number(), z.boolean()]).transform(String)).default({}),
  /** Runs per side, each with its own seed (EVALBOT_SEED); more than 1 measures noise. */
  repeats: z.number().int().min(1).max(20).default(1),
  /** Significance level of the Welch t-test that decides whether a change is beyond noise. */
  significance: z.number().gt(0).lt(1).default(0.05),
  /** Seed of the first run (EVALBOT_SEED); repeat i uses seed + i. */
  seed: z.number().int().min(0).default(42),
  /** Per-metric direction and thresholds, by the metric's name in the metrics file. */
  metrics: metricsSchema.default({}),
});
export type RepoConfig = z.output<typeof repoConfigSchema>;
