import type { Direction, RepoConfig } from '@evalbot/repo-config';

/** Metrics shown as percentages (with changes in percentage points) when their values lie in [0, 1]. */
const RATIO_WORDS = new Set([
  'accuracy',
  'acc',
  'precision',
  'recall',
  'f1',
  'f1score',
  'auc',
  'rocauc',
  'prauc',
  'specificity',
  'sensitivity',
]);

const HIGHER_IS_BETTER = new Set([
  ...RATIO_WORDS,
  'fscore',
  'fbeta',
  'iou',
  'miou',
  'map',
  'bleu',
  'rouge',
  'rouge1',
  'rouge2',
  'rougel',
  'r2',
  'dice',
  'ndcg',
  'mrr',
  'throughput',
]);

const LOWER_IS_BETTER = new Set([
  'loss',
  'error',
  'err',
  'mse',
  'mae',
  'rmse',
  'mape',
  'smape',
  'nll',
  'logloss',
  'crossentropy',
  'perplexity',
  'ppl',
  'wer',
  'cer',
  'latency',
  'runtime',
  'duration',
  'time',
]);

/**
 * The word parts of a metric name, lower-cased: `val_accuracy` → [val, accuracy],
 * `top5-acc` → [top5, acc], `valAccuracy` → [val, accuracy], `mAP` → [map].
 */
export function metricWords(name: string): string[] {
  return name
    .replace(/([a-z0-9])([A-Z][a-z])/g, '$1 $2')
    .toLowerCase()
    .split(/[^a-z0-9]+/)
    .filter((w) => w.length > 0);
}

export type DirectionSource = 'config' | 'name' | 'none';

/** The last word part that names a known metric, e.g. `loss` in `val_accuracy_loss`. */
function decidingWord(name: string): string | undefined {
  const words = metricWords(name);
  for (let i = words.length - 1; i >= 0; i--) {
    const word = words[i] as string;
    if (HIGHER_IS_BETTER.has(word) || LOWER_IS_BETTER.has(word)) return word;
  }
  return undefined;
}

/**
 * The direction of a metric: `metrics.<name>.direction` of the (base) config, else inferred from
 * its name's word parts — the last word that names a known metric wins (`accuracy_error` is an
 * error) — else neutral.
 */
export function directionOf(
  name: string,
  config?: Pick<RepoConfig, 'metrics'>,
): { direction: Direction; source: DirectionSource } {
  const configured = config?.metrics[name]?.direction;
  if (configured) return { direction: configured, source: 'config' };
  const word = decidingWord(name);
  if (word === undefined) return { direction: 'neutral', source: 'none' };
  return { direction: HIGHER_IS_BETTER.has(word) ? 'higher' : 'lower', source: 'name' };
}

/**
 * True when a metric named like accuracy/precision/recall/f1/auc (by its deciding word part) has
 * every value in [0, 1]: such values are shown as percentages and changes in percentage points.
 */
export function isRatioMetric(name: string, values: readonly number[]): boolean {
  const word = decidingWord(name);
  if (word === undefined || !RATIO_WORDS.has(word)) return false;
  return values.length > 0 && values.every((v) => v >= 0 && v <= 1);
}
