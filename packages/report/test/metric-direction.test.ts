import { describe, expect, it } from 'vitest';
import { directionOf, isRatioMetric, metricWords } from '../src/index.ts';
import { config } from './fixtures.ts';

describe('metric directions', () => {
  it('splits names into word parts: snake, kebab, dotted and camel case', () => {
    expect(metricWords('val_accuracy')).toEqual(['val', 'accuracy']);
    expect(metricWords('top5-acc')).toEqual(['top5', 'acc']);
    expect(metricWords('valAccuracy')).toEqual(['val', 'accuracy']);
    expect(metricWords('eval.F1Score')).toEqual(['eval', 'f1', 'score']);
    expect(metricWords('mAP')).toEqual(['map']);
  });

  it('guesses higher is better for accuracy-like names', () => {
    for (const name of [
      'accuracy',
      'val_accuracy',
      'top5_acc',
      'precision',
      'recall',
      'f1',
      'test_auc',
      'mIoU',
      'mAP',
      'bleu',
      'rouge_l',
      'r2',
    ]) {
      expect(directionOf(name), name).toEqual({ direction: 'higher', source: 'name' });
    }
  });

  it('guesses lower is better for loss-like names', () => {
    for (const name of [
      'loss',
      'test_loss',
      'val_loss',
      'error',
      'top1_err',
      'mse',
      'MAE',
      'rmse',
      'perplexity',
      'wer',
      'cer',
      'latency_ms',
    ]) {
      expect(directionOf(name), name).toEqual({ direction: 'lower', source: 'name' });
    }
  });

  it('lets the last known word decide a mixed name', () => {
    expect(directionOf('accuracy_error').direction).toBe('lower');
    expect(directionOf('loss_auc').direction).toBe('higher');
  });

  it('does not match inside words', () => {
    expect(directionOf('accurate_guess').direction).toBe('neutral');
    expect(directionOf('glossary').direction).toBe('neutral');
    expect(directionOf('errata').direction).toBe('neutral');
  });

  it('is neutral for unknown names', () => {
    expect(directionOf('epochs')).toEqual({ direction: 'neutral', source: 'none' });
    expect(directionOf('learning_rate').direction).toBe('neutral');
  });

  it('prefers the direction set in .evalbot.yml over the name', () => {
    const c = config('metrics:\n  loss: { direction: higher }\n  epochs: { direction: lower }\n');
    expect(directionOf('loss', c)).toEqual({ direction: 'higher', source: 'config' });
    expect(directionOf('epochs', c)).toEqual({ direction: 'lower', source: 'config' });
    expect(directionOf('accuracy', c)).toEqual({ direction: 'higher', source: 'name' });
  });

  it('shows accuracy-like metrics in [0, 1] as percentages, not losses or values above 1', () => {
    expect(isRatioMetric('val_accuracy', [0.97, 0.95])).toBe(true);
    expect(isRatioMetric('f1', [1, 0])).toBe(true);
    expect(isRatioMetric('accuracy', [97.5, 95])).toBe(false);
    expect(isRatioMetric('loss', [0.3])).toBe(false);
    expect(isRatioMetric('accuracy_loss', [0.3])).toBe(false);
    expect(isRatioMetric('bleu', [0.3])).toBe(false);
  });
});
