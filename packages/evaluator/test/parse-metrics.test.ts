import { describe, expect, it } from 'vitest';
import {
  MAX_METRICS,
  MAX_NAME_LENGTH,
  MetricsShapeError,
  metricsFromLiteral,
} from '../src/metrics-from-literal.ts';
import { LiteralSyntaxError, type LiteralValue, parsePythonLiteral } from '../src/parse-python-literal.ts';

const parseMetrics = (text: string) => metricsFromLiteral(parsePythonLiteral(text));

describe('parsePythonLiteral', () => {
  it("reads the tutorial's Python dict literal", () => {
    expect(parsePythonLiteral("{'loss': 0.3, 'accuracy': 0.9}")).toEqual({ loss: 0.3, accuracy: 0.9 });
  });

  it('reads JSON, including nested objects, arrays and true/false/null', () => {
    expect(parsePythonLiteral('{"a": [1, 2.5e-3, -4], "b": {"c": true, "d": false, "e": null}}')).toEqual({
      a: [1, 0.0025, -4],
      b: { c: true, d: false, e: null },
    });
  });

  it('reads True/False/None, tuples, trailing commas and multi-line layouts', () => {
    const text = `{
      'ok': True, 'bad': False, 'none': None,
      'pair': (1, 2,), 'one': (3,), 'empty': (),
      'list': [1e5, .5, 5., 1_000,],
    }`;
    expect(parsePythonLiteral(text)).toEqual({
      ok: true,
      bad: false,
      none: null,
      pair: [1, 2],
      one: [3],
      empty: [],
      list: [100000, 0.5, 5, 1000],
    });
  });

  it('reads string escapes and adjacent string concatenation as Python does', () => {
    expect(
      parsePythonLiteral(
        String.raw`{'it\'s': 1, "tab\there": 2, 'caf\xe9': 3, 'snow\u2603': 4, 'a' 'b': 5, '\d': 6}`,
      ),
    ).toEqual({
      "it's": 1,
      'tab\there': 2,
      café: 3,
      'snow☃': 4,
      ab: 5,
      '\\d': 6,
    });
  });

  it('reads nan and inf (to be refused with a message by the metrics check)', () => {
    const value = parsePythonLiteral("{'a': nan, 'b': -inf, 'c': Infinity, 'd': NaN}") as Record<
      string,
      number
    >;
    expect(value.a).toBeNaN();
    expect(value.b).toBe(Number.NEGATIVE_INFINITY);
    expect(value.c).toBe(Number.POSITIVE_INFINITY);
    expect(value.d).toBeNaN();
  });

  it('reads numpy scalars as printed by numpy 2 (np.float64(0.9)) without running them', () => {
    expect(parsePythonLiteral("{'acc': np.float64(0.9), 'n': numpy.int64(3), 'ok': np.True_}")).toEqual({
      acc: 0.9,
      n: 3,
      ok: true,
    });
  });

  it('keeps a key named __proto__ an ordinary key', () => {
    const value = parsePythonLiteral('{"__proto__": 1}') as Record<string, unknown>;
    expect(Object.keys(value)).toEqual(['__proto__']);
    expect(Object.getPrototypeOf(value)).toBe(Object.prototype);
  });

  it.each([
    ["__import__('os').system('id')", /unexpected name "__import__"/],
    ["{'a': open('x')}", /unexpected name "open"/],
    ["{'a': np.float64(__import__('os'))}", /unexpected name "__import__"/],
    ["{'a': 1} extra", /after the value/],
    ["{'a' 1}", /expected ":"/],
    ["{'a': 1", /expected "," or "}"/],
    ["{'a': 'unterminated}", /unterminated string/],
    ['{1: 2}', /keys must be strings/],
    ["{'a': 1j}", /complex numbers/],
    ["{'a': '''x'''}", /triple-quoted/],
    ['', /empty/],
    ['[', /unexpected end of file/],
    ['[1 2]', /expected ","/],
    ['-"x"', /must be followed by a number/],
  ])('refuses %j without evaluating it', (text, message) => {
    expect(() => parsePythonLiteral(text)).toThrow(LiteralSyntaxError);
    expect(() => parsePythonLiteral(text)).toThrow(message);
  });

  it('names the line and column of a syntax error', () => {
    try {
      parsePythonLiteral("{\n  'a': 1,\n  'b': @\n}");
      expect.unreachable();
    } catch (error) {
      expect(error).toBeInstanceOf(LiteralSyntaxError);
      expect((error as LiteralSyntaxError).line).toBe(3);
      expect((error as LiteralSyntaxError).column).toBe(8);
    }
  });

  it('refuses nesting deep enough to exhaust the stack', () => {
    expect(() => parsePythonLiteral(`${'['.repeat(10_000)}${']'.repeat(10_000)}`)).toThrow(/nested deeper/);
  });

  it('ignores a UTF-8 byte order mark', () => {
    expect(parsePythonLiteral('\ufeff{"a": 1}')).toEqual({ a: 1 });
  });
});

describe('metricsFromLiteral', () => {
  it('splits final metrics from per-epoch history, nested or top-level', () => {
    expect(
      parseMetrics("{'loss': 0.3, 'accuracy': 0.9, 'val_loss': [0.5, 0.4], 'history': {'loss': [0.6, 0.3]}}"),
    ).toEqual({
      metrics: { loss: 0.3, accuracy: 0.9 },
      history: { val_loss: [0.5, 0.4], loss: [0.6, 0.3] },
      historyEpochs: {},
      notes: [],
    });
  });

  it('counts True/False as 1/0 and skips None with a note', () => {
    expect(parseMetrics("{'converged': True, 'diverged': False, 'f1': None, 'acc': 0.5}")).toEqual({
      metrics: { converged: 1, diverged: 0, acc: 0.5 },
      history: {},
      historyEpochs: {},
      notes: ["metric 'f1' is None; skipped"],
    });
  });

  it.each([
    ["{'loss': nan}", "metric 'loss' is nan; write a finite number"],
    ["{'loss': -inf}", "metric 'loss' is -Infinity"],
    [
      '{"accuracy": "0.9"}',
      'metric \'accuracy\' is the string "0.9", not a number; write the number without quotes: 0.9',
    ],
    ['{"model": "cnn", "a": 1}', 'metric \'model\' is the string "cnn", not a number'],
    ["{'a': {'b': 1}}", "metric 'a' is a dict"],
    ["{'history': {'loss': 0.3}, 'a': 1}", "history 'loss' is 0.3; give a list of numbers"],
    ["{'loss': [0.3, None], 'a': 1}", "history 'loss'[1] is None"],
    ["{'loss': [0.3, nan], 'a': 1}", "metric 'loss[1]' is nan"],
    ['[0.3, 0.9]', 'holds a list, not a dict of metrics'],
    ['0.9', 'holds 0.9, not a dict of metrics'],
    ["{'history': {'loss': [1]}}", 'holds no numeric metric'],
    ['{}', 'holds no numeric metric'],
  ])('refuses %s with a message naming the problem', (text, message) => {
    expect(() => parseMetrics(text)).toThrow(MetricsShapeError);
    expect(() => parseMetrics(text)).toThrow(message);
  });
});

// Every kept name and number is stored with each run's result (several times over in Redis), so
// a metrics file cannot make a run keep more than these caps, whatever its 1 MiB holds.
describe('metricsFromLiteral bounds', () => {
  it(`keeps the first ${MAX_METRICS} metrics in file order and says how many were skipped, from which`, () => {
    const names = Array.from({ length: 1000 }, (_, i) => `m${i}`);
    const parsed = metricsFromLiteral(Object.fromEntries(names.map((name, i) => [name, i])));
    expect(Object.keys(parsed.metrics)).toEqual(names.slice(0, 200));
    expect(parsed.metrics.m199).toBe(199);
    expect(parsed.notes).toEqual(["800 metrics skipped, from 'm200' on: only the first 200 are kept"]);
  });

  it('counts only numbers toward the cap: history and None metrics leave room for the rest', () => {
    const many = Object.fromEntries(Array.from({ length: 199 }, (_, i) => [`m${i}`, i]));
    const parsed = parseMetrics(
      `{${Object.entries(many)
        .map(([k, v]) => `'${k}': ${v}`)
        .join(', ')}, 'f1': None, 'loss': [1, 2], 'last': 7, 'one_too_many': 8}`,
    );
    expect(Object.keys(parsed.metrics)).toHaveLength(200);
    expect(parsed.metrics.last).toBe(7);
    expect(parsed.history).toEqual({ loss: [1, 2] });
    expect(parsed.notes).toEqual([
      "metric 'f1' is None; skipped",
      "1 metric skipped, from 'one_too_many' on: only the first 200 are kept",
    ]);
  });

  it(`skips metric and history names over ${MAX_NAME_LENGTH} characters, quoting their first 40`, () => {
    const long = `val_${'x'.repeat(MAX_NAME_LENGTH)}`;
    const longest = 'y'.repeat(MAX_NAME_LENGTH);
    const parsed = metricsFromLiteral({
      acc: 1,
      [long]: 0.5,
      [longest]: 0.25,
      history: { [`${long}_loss`]: [1, 2], loss: [3] },
    });
    expect(parsed.metrics).toEqual({ acc: 1, [longest]: 0.25 });
    expect(parsed.history).toEqual({ loss: [3] });
    expect(parsed.notes).toEqual([
      `metric 'val_${'x'.repeat(36)}…' skipped: its name has 204 characters, more than the 200 kept; shorten it`,
      `history 'val_${'x'.repeat(36)}…' skipped: its name has 209 characters, more than the 200 kept; shorten it`,
    ]);
  });

  it('cuts a long name in its note before an emoji, not through it', () => {
    // 39 characters, then an emoji (two UTF-16 units) straddling the 40th: half a pair is not text.
    const name = `${'a'.repeat(39)}😀${'b'.repeat(MAX_NAME_LENGTH)}`;
    const [note] = metricsFromLiteral({ acc: 1, [name]: 2 }).notes;
    expect(note).toBe(
      `metric '${'a'.repeat(39)}…' skipped: its name has 241 characters, more than the 200 kept; shorten it`,
    );
    expect(note).not.toMatch(/[\ud800-\udbff](?![\udc00-\udfff])/);
  });

  it('names the first 10 of a kind one by one and counts the rest in one note', () => {
    const many = (count: number, nameOf: (i: number) => string, value: LiteralValue) =>
      Object.fromEntries(Array.from({ length: count }, (_, i) => [nameOf(i), value]));
    const parsed = metricsFromLiteral({
      acc: 1,
      ...many(25, (i) => `${i}`.padEnd(201, '_'), 0),
      ...many(12, (i) => `f${i}`, null),
      history: many(30, (i) => `s${i}`, [1]),
    });
    expect(parsed.metrics).toEqual({ acc: 1 });
    expect(parsed.notes).toHaveLength(33);
    expect(parsed.notes[9]).toMatch(/^metric '9_{39}…' skipped/);
    expect(parsed.notes.slice(-3)).toEqual([
      '15 more names longer than 200 characters skipped',
      '2 more metrics that are None skipped',
      '4 more history series skipped (only the first 16 are kept)',
    ]);
  });
});
