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

/**
 * No NUL character: no path or command can hold one, and the worker's file and process calls
 * would throw on it (an internal error, retried) instead of the PR being told which key is wrong.
 */
const withoutNul = { message: 'must not contain a NUL character (\\0)' };
const hasNoNul = (text: string) => !text.includes('\0');

const relativePath = z
  .string()
  .min(1)
  .refine(hasNoNul, withoutNul)
  .refine((p) => !p.startsWith('/') && !p.split(/[\\/]/).includes('..'), {
    message: 'must be a path inside the repository (relative, no "..")',
  });

/** A shell command of `setup` or `run`. */
const command = z.string().min(1).refine(hasNoNul, withoutNul);

const envName = z
  .string()
  .regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'is not a valid environment variable name')
  // evalbot sets EVALBOT_SEED (and may set more) itself; a repo must not be able to override them.
  .refine((name) => !name.toUpperCase().startsWith('EVALBOT_'), { message: 'is reserved for evalbot' });

/**
 * Names that would steer the tools evalbot runs for the repository (pip, Python, the dynamic
 * linker, git) rather than the model: pip's settings would let a PR plant packages in the
 * environments shared by every repository on the host. Why each is refused, and what to do.
 */
const RESERVED_ENV_PREFIXES: [prefix: string, why: string][] = [
  [
    'PIP_',
    "is not allowed: pip settings come from the evalbot operator (a repository's index could plant packages in environments other repositories share); pin versions in requirements.txt instead",
  ],
  [
    'PYTHON',
    'is not allowed: Python interpreter settings would also reach the tools evalbot runs; set it in the command instead (`run: PYTHONHASHSEED=0 python3 demo.py`)',
  ],
  ['VIRTUAL_ENV', "is not allowed: evalbot sets it to the job's own virtual environment"],
  [
    'LD_',
    'is not allowed: dynamic linker settings would also reach the tools evalbot runs; set it in the command instead',
  ],
  ['GIT_', 'is not allowed: git settings come from evalbot; set it in the command that needs it instead'],
  [
    'CUDA_VISIBLE_DEVICES',
    'is not allowed: evalbot sets it to the GPU it gives the training (one per job); ask for a GPU with `resources: {gpu: 1}` instead',
  ],
];

/** `.evalbot.yml` `env`: variables for setup and run, none of the reserved names. */
const envSchema = z
  .record(
    envName,
    z.union([z.string().refine(hasNoNul, withoutNul), z.number(), z.boolean()]).transform(String),
  )
  .superRefine(
    (env, ctx) => {
      for (const name of Object.keys(env)) {
        const reserved = RESERVED_ENV_PREFIXES.find(([prefix]) => name.toUpperCase().startsWith(prefix));
        if (reserved) ctx.addIssue({ code: 'custom', path: [name], message: reserved[1], input: name });
      }
    },
    // Also when another name is invalid, so every problem is reported at once.
    { when: ({ value }) => typeof value === 'object' && value !== null && !Array.isArray(value) },
  );

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

/** The name of a worker pool: what operators list in WORKER_POOLS and what the queue is named after. */
export const POOL_NAME = /^[a-z0-9][a-z0-9-]{0,31}$/;
/** The pool of workers started without WORKER_POOLS: the one every side goes to unless the base asks for another. */
export const DEFAULT_POOL = 'default';
/** The pool `resources: {gpu: 1}` goes to when it names none. */
export const GPU_POOL = 'gpu';

/**
 * What the trainings need from the worker, read from the BASE branch only (a pull request
 * cannot pick its own pool). `gpu: 1` sends both sides to the `gpu` pool, where each training
 * gets one GPU of its own; `pool` names another pool that operators start workers for.
 */
export const resourcesSchema = z.strictObject({
  /** GPUs per training: 0 or 1 (evalbot runs one training per GPU). */
  gpu: z
    .number()
    .int()
    .min(0)
    .max(1, 'must be 0 or 1: evalbot gives each training one GPU of its own')
    .default(0),
  /** The worker pool both sides run in; default `gpu` when `gpu: 1`, else the default pool. */
  pool: z
    .string()
    .regex(
      POOL_NAME,
      'must be a pool name: lower-case letters, digits and "-", at most 32, e.g. `pool: a100`',
    )
    .optional(),
});
export type Resources = z.output<typeof resourcesSchema>;

/** The pool a config's sides run in. */
export function poolOf(resources: Resources): string {
  return resources.pool ?? (resources.gpu > 0 ? GPU_POOL : DEFAULT_POOL);
}

/**
 * One `ignore:` pattern: a path relative to the repository root, gitignore-style (`*` and `?`
 * within a name, `**` across directories; a pattern without `/` matches a name at any depth,
 * `docs/` everything under `docs`). No negation: a pattern only removes.
 */
const ignorePattern = z
  .string()
  .min(1)
  .refine((p) => !p.startsWith('!'), {
    message: 'negation ("!") is not supported: list only what the evaluation does not read',
  })
  .refine((p) => !p.split('/').includes('..') && !p.includes('\\'), {
    message: 'must be a pattern inside the repository (no "..", "/" as the separator)',
  });

/** The `.evalbot.yml` file at the repository root. Every key is optional. */
export const repoConfigSchema = z.strictObject({
  /** Requirements file for the cached virtual environment; `false` for none. */
  requirements: z.union([relativePath, z.literal(false)]).default('requirements.txt'),
  /** Extra setup commands, run after the environment is ready, before `run`. One command may be a string. */
  setup: z.union([command.transform((one) => [one]), z.array(command)]).default([]),
  /** The command that trains and evaluates, writing the metrics file. */
  run: command.default('python3 demo.py'),
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
  env: envSchema.default({}),
  /** Runs per side, each with its own seed (EVALBOT_SEED); more than 1 measures noise. */
  repeats: z.number().int().min(1).max(20).default(1),
  /** Significance level of the Welch t-test that decides whether a change is beyond noise. */
  significance: z.number().gt(0).lt(1).default(0.05),
  /** Seed of the first run (EVALBOT_SEED); repeat i uses seed + i. */
  seed: z.number().int().min(0).default(42),
  /**
   * Paths the evaluation does not read (e.g. `docs/**`, `*.md`), read from the BASE branch for
   * both sides: they are removed from the checkout before anything runs, and a commit that
   * differs from an evaluated one only there reuses its result. `.evalbot.yml` and the
   * requirements file always count.
   */
  ignore: z
    .union([ignorePattern.transform((pattern) => [pattern]), z.array(ignorePattern).max(100)])
    .default([]),
  /** Per-metric direction and thresholds, by the metric's name in the metrics file. */
  metrics: metricsSchema.default({}),
  /** Where both sides train (read from the base branch): `{gpu: 1}` or `{pool: name}`. */
  resources: resourcesSchema.default({ gpu: 0 }),
});
export type RepoConfig = z.output<typeof repoConfigSchema>;
