/** The typographic minus: easier to read than a hyphen next to digits. */
const MINUS = '−';
/** Shown where a value does not exist (missing metric, failed side, relative change of a zero base). */
export const MISSING = '—';

function stripTrailingZeros(fixed: string): string {
  return fixed.includes('.') ? fixed.replace(/\.?0+$/, '') : fixed;
}

function withMinus(text: string): string {
  return text.startsWith('-') ? `${MINUS}${text.slice(1)}` : text;
}

/**
 * A number for reading: `significant` significant digits, trailing zeros dropped, no exponent
 * between 1e-6 and 1e15 (`0.0478`, `12.35`, `123456`), an exponent outside (`1.23e-9`).
 */
export function formatNumber(value: number, significant = 4): string {
  if (Number.isNaN(value)) return 'NaN';
  if (!Number.isFinite(value)) return value > 0 ? '∞' : `${MINUS}∞`;
  if (value === 0) return '0';
  const abs = Math.abs(value);
  if (abs < 1e-6 || abs >= 1e15)
    return withMinus(value.toExponential(significant - 1).replace(/\.?0+e/, 'e'));
  const magnitude = Math.floor(Math.log10(abs));
  const decimals = Math.max(0, significant - 1 - magnitude);
  const text = stripTrailingZeros(value.toFixed(decimals));
  // Rounding can turn a tiny negative number into "-0".
  return text === '-0' ? '0' : withMinus(text);
}

/** A signed change: `+0.0478`, `−3.2`, `0` (no sign for no change). */
function formatSigned(value: number, significant = 3): string {
  const text = formatNumber(value, significant);
  if (text === '0' || text.startsWith(MINUS)) return text;
  return `+${text}`;
}

/** A ratio in [0, 1] as a percentage with two decimals: `0.97531` → `97.53%`. */
export function formatPercent(ratio: number): string {
  return `${withMinus((ratio * 100).toFixed(2))}%`;
}

/**
 * A change of a ratio in percentage points: `0.025` → `+2.50 pts`. Changes too small for two
 * decimals keep their significant digits (`+0.004 pts`) rather than reading as `+0.00 pts`.
 */
export function formatPoints(delta: number): string {
  const points = delta * 100;
  if (points === 0) return '0 pts';
  const sign = points > 0 ? '+' : MINUS;
  const abs = Math.abs(points);
  const text = abs >= 0.01 ? abs.toFixed(2) : formatNumber(abs, 2);
  return `${sign}${text} pts`;
}

/** A value as shown in the table: a percentage for ratio metrics, else significant digits. */
export function formatValue(value: number, ratio: boolean): string {
  return ratio ? formatPercent(value) : formatNumber(value);
}

/** A standard deviation in the value's unit (percentage points for ratio metrics). */
export function formatSpread(sd: number, ratio: boolean): string {
  return ratio ? `${formatNumber(sd * 100, 2)} pts` : formatNumber(sd, 2);
}

/** An absolute change in the value's unit. */
export function formatChange(delta: number, ratio: boolean): string {
  return ratio ? formatPoints(delta) : formatSigned(delta);
}

/** The change relative to the base: `+5.12%`; {@link MISSING} when the base is 0. */
export function formatRelative(relative: number | undefined): string {
  if (relative === undefined || !Number.isFinite(relative)) return MISSING;
  const percent = relative * 100;
  if (percent === 0) return '0%';
  return `${formatSigned(percent, 3)}%`;
}

/** A duration for reading: `850 ms`, `12.3 s`, `2 min 05 s`, `1 h 02 min`. */
export function formatDuration(ms: number): string {
  if (!Number.isFinite(ms) || ms < 0) return MISSING;
  if (ms < 1000) return `${Math.round(ms)} ms`;
  const seconds = ms / 1000;
  if (seconds < 60) return `${seconds < 10 ? seconds.toFixed(1) : Math.round(seconds)} s`;
  const totalSeconds = Math.round(seconds);
  const minutes = Math.floor(totalSeconds / 60);
  if (minutes < 60) return `${minutes} min ${String(totalSeconds % 60).padStart(2, '0')} s`;
  return `${Math.floor(minutes / 60)} h ${String(minutes % 60).padStart(2, '0')} min`;
}

/** A UTC time for reading and for stable goldens: `2025-03-04 12:30 UTC`. */
export function formatTime(date: Date): string {
  return `${date.toISOString().slice(0, 16).replace('T', ' ')} UTC`;
}
