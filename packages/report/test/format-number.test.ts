import { describe, expect, it } from 'vitest';
import {
  formatChange,
  formatDuration,
  formatNumber,
  formatPercent,
  formatPoints,
  formatRelative,
  formatValue,
} from '../src/index.ts';

describe('number formatting', () => {
  it('keeps four significant digits without trailing zeros', () => {
    expect(formatNumber(0.123456)).toBe('0.1235');
    expect(formatNumber(0.05)).toBe('0.05');
    expect(formatNumber(12.3456)).toBe('12.35');
    expect(formatNumber(1234.56)).toBe('1235');
    expect(formatNumber(123456)).toBe('123456');
    expect(formatNumber(0.000123)).toBe('0.000123');
    expect(formatNumber(0)).toBe('0');
  });

  it('uses an exponent only for very small or very large numbers', () => {
    expect(formatNumber(1.234e-9)).toBe('1.234e-9');
    expect(formatNumber(2e20)).toBe('2e+20');
  });

  it('writes negative numbers with a typographic minus', () => {
    expect(formatNumber(-0.0478)).toBe('−0.0478');
    expect(formatNumber(-1e-12)).toBe('−1e-12');
    expect(formatNumber(Number.NEGATIVE_INFINITY)).toBe('−∞');
  });

  it('shows ratios as percentages and their changes in percentage points', () => {
    expect(formatPercent(0.97531)).toBe('97.53%');
    expect(formatValue(0.9503, true)).toBe('95.03%');
    expect(formatPoints(0.025)).toBe('+2.50 pts');
    expect(formatPoints(-0.0141)).toBe('−1.41 pts');
    expect(formatChange(0.025, true)).toBe('+2.50 pts');
  });

  it('keeps a tiny change in points visible instead of +0.00 pts', () => {
    expect(formatPoints(0.00004)).toBe('+0.004 pts');
    expect(formatPoints(0)).toBe('0 pts');
  });

  it('signs changes of plain metrics', () => {
    expect(formatChange(-0.0478, false)).toBe('−0.0478');
    expect(formatChange(0.06971, false)).toBe('+0.0697');
    expect(formatChange(0, false)).toBe('0');
  });

  it('gives relative changes with three significant digits, none for a zero base', () => {
    expect(formatRelative(0.0263)).toBe('+2.63%');
    expect(formatRelative(-0.279)).toBe('−27.9%');
    expect(formatRelative(undefined)).toBe('—');
    expect(formatRelative(0)).toBe('0%');
  });

  it('reads durations in the largest sensible unit', () => {
    expect(formatDuration(850)).toBe('850 ms');
    expect(formatDuration(1_240)).toBe('1.2 s');
    expect(formatDuration(18_400)).toBe('18 s');
    expect(formatDuration(125_000)).toBe('2 min 05 s');
    expect(formatDuration(3_725_000)).toBe('1 h 02 min');
  });
});
