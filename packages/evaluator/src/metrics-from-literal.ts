import { sliceWhole } from '@evalbot/repo-config/slice-whole';
import type { LiteralValue } from './parse-python-literal.ts';

/**
 * Points kept of one history series: a longer one (per-step logging) is sampled evenly, first
 * and last kept. The charts draw 60; what is kept is stored with every result and report.
 */
export const MAX_HISTORY_POINTS = 500;
/** History series kept of one run (in the file's order); the charts draw 8. */
export const MAX_HISTORY_SERIES = 16;
/**
 * Final metrics kept of one run (the first in the file's order). A model reports a handful; the
 * bound keeps what a 1 MiB metrics file makes every stored result hold small (~130k tiny metrics
 * would fit in one).
 */
export const MAX_METRICS = 200;
/** Longer metric and history names are skipped: they would be stored with every result. */
export const MAX_NAME_LENGTH = 200;
/** Characters of a skipped long name quoted in its note. */
export const NAME_SHOWN_IN_NOTE = 40;
/**
 * Notes of one kind (a long name, a `None` metric, a series past the 16th) given one by one; the
 * rest are counted in one note, so a file of thousands of them writes a few log lines.
 */
export const MAX_NOTES_OF_A_KIND = 10;

/** Final metrics and per-epoch history read from one metrics file. */
export interface ParsedMetrics {
  metrics: Record<string, number>;
  history: Record<string, number[]>;
  /** The epochs of a series sampled to {@link MAX_HISTORY_POINTS} (its length in the file). */
  historyEpochs: Record<string, number>;
  /** Things that were skipped, worth a line in the log (e.g. a `None` metric). */
  notes: string[];
}

/** The metrics file parsed but its content is not metrics; the message names the key. */
export class MetricsShapeError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'MetricsShapeError';
  }
}

function describe(value: LiteralValue): string {
  if (value === null) return 'None';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'object') return 'a dict';
  if (typeof value === 'string') return `the string ${JSON.stringify(value)}`;
  return String(value);
}

function checkFinite(key: string, value: number): number {
  if (Number.isNaN(value)) throw new MetricsShapeError(`metric '${key}' is nan; write a finite number`);
  if (!Number.isFinite(value))
    throw new MetricsShapeError(`metric '${key}' is ${value}; write a finite number`);
  return value;
}

function scalar(key: string, value: LiteralValue): number | undefined {
  if (typeof value === 'number') return checkFinite(key, value);
  if (typeof value === 'boolean') return value ? 1 : 0;
  if (typeof value === 'string') {
    const hint =
      value.trim() !== '' && Number.isFinite(Number(value)) ? ` without quotes: ${value.trim()}` : '';
    throw new MetricsShapeError(
      `metric '${key}' is ${describe(value)}, not a number; write the number${hint}`,
    );
  }
  return undefined;
}

function series(key: string, value: LiteralValue[]): number[] {
  return value.map((item, i) => {
    if (typeof item !== 'number') {
      throw new MetricsShapeError(
        `history '${key}'[${i}] is ${describe(item)}; history lists hold numbers only`,
      );
    }
    return checkFinite(`${key}[${i}]`, item);
  });
}

/** `count` values of `values` at evenly spaced indexes, the first and the last among them. */
function sampleEvenly(values: number[], count: number): number[] {
  const step = (values.length - 1) / (count - 1);
  return Array.from({ length: count }, (_, i) => values[Math.round(i * step)] as number);
}

/**
 * Turn the parsed metrics file into metrics and history. Accepted: `{name: number | bool}`,
 * `{name: [numbers]}` (a per-epoch series), and `{history: {name: [numbers]}}`.
 * Throws {@link MetricsShapeError} naming the offending key.
 */
export function metricsFromLiteral(value: LiteralValue): ParsedMetrics {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new MetricsShapeError(
      `holds ${describe(value)}, not a dict of metrics; write e.g. {"loss": 0.3, "accuracy": 0.9}`,
    );
  }
  const out: ParsedMetrics = { metrics: {}, history: {}, historyEpochs: {}, notes: [] };
  const more = {
    long: { count: 0, words: `names longer than ${MAX_NAME_LENGTH} characters skipped` },
    none: { count: 0, words: 'metrics that are None skipped' },
    series: { count: 0, words: `history series skipped (only the first ${MAX_HISTORY_SERIES} are kept)` },
  };
  const note = (kind: keyof typeof more, text: () => string) => {
    if (++more[kind].count <= MAX_NOTES_OF_A_KIND) out.notes.push(text());
  };
  let metricsKept = 0;
  let metricsSkipped = 0;
  let firstSkipped = '';
  /**
   * Whether a name can be kept: `__proto__` cannot be a key of a plain object (assigning it sets
   * the prototype), and a name over {@link MAX_NAME_LENGTH} would be stored with every result;
   * either is skipped with a note rather than vanish.
   */
  const keepable = (name: string, what: 'metric' | 'history'): boolean => {
    if (name === '__proto__') {
      out.notes.push(`${what} '__proto__' skipped: the name cannot be stored; rename it`);
      return false;
    }
    if (name.length <= MAX_NAME_LENGTH) return true;
    note(
      'long',
      () =>
        `${what} '${sliceWhole(name, NAME_SHOWN_IN_NOTE)}…' skipped: its name has ${name.length} characters, more than the ${MAX_NAME_LENGTH} kept; shorten it`,
    );
    return false;
  };
  const addSeries = (name: string, values: LiteralValue[]) => {
    if (!keepable(name, 'history')) return;
    const numbers = series(name, values);
    if (!Object.hasOwn(out.history, name) && Object.keys(out.history).length >= MAX_HISTORY_SERIES) {
      note('series', () => `history '${name}' skipped: only the first ${MAX_HISTORY_SERIES} series are kept`);
      return;
    }
    if (numbers.length > MAX_HISTORY_POINTS) {
      out.history[name] = sampleEvenly(numbers, MAX_HISTORY_POINTS);
      out.historyEpochs[name] = numbers.length;
      out.notes.push(
        `history '${name}' has ${numbers.length} points: ${MAX_HISTORY_POINTS} evenly spaced ones are kept (the first and the last among them)`,
      );
    } else {
      out.history[name] = numbers;
      delete out.historyEpochs[name];
    }
  };
  for (const [key, item] of Object.entries(value)) {
    if (key === 'history' && item !== null && typeof item === 'object' && !Array.isArray(item)) {
      for (const [name, values] of Object.entries(item)) {
        if (!Array.isArray(values)) {
          throw new MetricsShapeError(`history '${name}' is ${describe(values)}; give a list of numbers`);
        }
        addSeries(name, values);
      }
      continue;
    }
    if (!keepable(key, 'metric')) continue;
    if (item === null) {
      note('none', () => `metric '${key}' is None; skipped`);
      continue;
    }
    if (Array.isArray(item)) {
      addSeries(key, item);
      continue;
    }
    if (typeof item === 'object') {
      throw new MetricsShapeError(
        `metric '${key}' is a dict; only "history" may hold a dict (of lists), other metrics are numbers`,
      );
    }
    const number = scalar(key, item);
    if (number === undefined) continue;
    // Keys of one dict are distinct, so a count of those kept is the size of `out.metrics`.
    if (metricsKept >= MAX_METRICS) {
      if (metricsSkipped++ === 0) firstSkipped = key;
      continue;
    }
    out.metrics[key] = number;
    metricsKept++;
  }
  for (const { count, words } of Object.values(more)) {
    if (count > MAX_NOTES_OF_A_KIND) out.notes.push(`${count - MAX_NOTES_OF_A_KIND} more ${words}`);
  }
  if (metricsSkipped > 0) {
    out.notes.push(
      `${metricsSkipped} metric${metricsSkipped === 1 ? '' : 's'} skipped, from '${firstSkipped}' on: only the first ${MAX_METRICS} are kept`,
    );
  }
  if (Object.keys(out.metrics).length === 0) {
    throw new MetricsShapeError('holds no numeric metric; write e.g. {"loss": 0.3, "accuracy": 0.9}');
  }
  return out;
}
