import { describe, expect, it } from 'vitest';
import {
  logGamma,
  mean,
  regularizedIncompleteBeta,
  sampleStandardDeviation,
  studentTCdf,
  welchTTest,
} from '../src/index.ts';

// Reference values from SciPy 1.17 (scipy.special.betainc, scipy.stats.t.cdf, scipy.stats.ttest_ind
// with equal_var=False) and closed forms.

describe('logGamma', () => {
  it('matches known values of ln Γ', () => {
    expect(logGamma(1)).toBeCloseTo(0, 14);
    expect(logGamma(3)).toBeCloseTo(Math.log(2), 14);
    expect(logGamma(0.5)).toBeCloseTo(0.5723649429247004, 13); // ln √π
    expect(logGamma(100.5)).toBeCloseTo(361.4355404677776, 10);
    expect(logGamma(0.1)).toBeCloseTo(2.252712651734206, 12);
  });
});

describe('regularizedIncompleteBeta', () => {
  it('matches SciPy betainc', () => {
    const cases: [number, number, number, number][] = [
      [0.3, 2, 3, 0.34829999999999994],
      [0.9, 0.5, 0.5, 0.7951672353008665],
      [0.999, 50, 2, 0.9987659096068829],
      [0.5, 200, 200, 0.5],
      [0.2, 1.5, 7.25, 0.6581585908788302],
    ];
    for (const [x, a, b, expected] of cases)
      expect(regularizedIncompleteBeta(x, a, b)).toBeCloseTo(expected, 12);
  });

  it('keeps relative precision for tiny values', () => {
    const value = regularizedIncompleteBeta(0.01, 10, 0.5);
    expect(value / 1.770034965528571e-21).toBeCloseTo(1, 10);
  });

  it('follows the closed forms I_x(1,1)=x, I_x(a,1)=x^a and I_x(1,b)=1-(1-x)^b', () => {
    for (const x of [0.01, 0.25, 0.5, 0.8, 0.99]) {
      expect(regularizedIncompleteBeta(x, 1, 1)).toBeCloseTo(x, 14);
      expect(regularizedIncompleteBeta(x, 3.5, 1)).toBeCloseTo(x ** 3.5, 14);
      expect(regularizedIncompleteBeta(x, 1, 4)).toBeCloseTo(1 - (1 - x) ** 4, 14);
    }
  });

  it('is 0 at x=0, 1 at x=1 and symmetric: I_x(a,b) = 1 - I_(1-x)(b,a)', () => {
    expect(regularizedIncompleteBeta(0, 2, 3)).toBe(0);
    expect(regularizedIncompleteBeta(1, 2, 3)).toBe(1);
    expect(regularizedIncompleteBeta(0.37, 2.5, 7)).toBeCloseTo(
      1 - regularizedIncompleteBeta(0.63, 7, 2.5),
      14,
    );
  });

  it('refuses non-positive shape parameters', () => {
    expect(() => regularizedIncompleteBeta(0.5, 0, 1)).toThrow(RangeError);
  });
});

describe('studentTCdf', () => {
  it('matches SciPy t.cdf', () => {
    const cases: [number, number, number][] = [
      [2.228138851986, 10, 0.9749999999999883],
      [-1.5, 3, 0.11529193262241147],
      [0.7, 2.5, 0.728297528405226],
      [12.7062047361747, 1, 0.975],
      [1.96, 1000, 0.9748634075221256],
      [0, 5, 0.5],
    ];
    for (const [t, df, expected] of cases) expect(studentTCdf(t, df)).toBeCloseTo(expected, 11);
    expect(studentTCdf(-4, 30) / 0.0001909228180418782).toBeCloseTo(1, 9);
  });

  it('is the Cauchy distribution for one degree of freedom and has the closed form for two', () => {
    for (const t of [-3, -0.5, 0.25, 2, 10]) {
      expect(studentTCdf(t, 1)).toBeCloseTo(0.5 + Math.atan(t) / Math.PI, 13);
      expect(studentTCdf(t, 2)).toBeCloseTo(0.5 + t / (2 * Math.sqrt(2 + t * t)), 13);
    }
  });

  it('handles infinite t', () => {
    expect(studentTCdf(Number.POSITIVE_INFINITY, 3)).toBe(1);
    expect(studentTCdf(Number.NEGATIVE_INFINITY, 3)).toBe(0);
  });
});

describe('welchTTest', () => {
  it('matches SciPy ttest_ind(equal_var=False) on unequal sizes and variances', () => {
    const a = [19.8, 20.4, 19.6, 17.8, 18.5, 18.9, 18.3, 18.9, 19.5, 22.0];
    const b = [
      28.2, 26.6, 20.1, 23.3, 25.2, 22.1, 17.7, 27.6, 20.6, 13.7, 23.2, 17.5, 20.6, 18.0, 23.9, 21.6, 24.3,
      20.4, 23.9, 13.3,
    ];
    const r = welchTTest(a, b);
    expect(r?.t).toBeCloseTo(-2.225512039969852, 12);
    expect(r?.df).toBeCloseTo(24.524634944257343, 10);
    expect(r?.pValue).toBeCloseTo(0.035484530830010394, 12);
  });

  it('matches SciPy on three seeds per side: a change within noise', () => {
    const r = welchTTest([0.9712, 0.9698, 0.9725], [0.9701, 0.9689, 0.972]);
    expect(r?.t).toBeCloseTo(0.6987712429686043, 10);
    expect(r?.df).toBeCloseTo(3.9172837233322886, 9);
    expect(r?.pValue).toBeCloseTo(0.5239543553871436, 10);
  });

  it('matches SciPy on three seeds per side: a real change', () => {
    const r = welchTTest([0.981, 0.982, 0.9805], [0.97, 0.9712, 0.9695]);
    expect(r?.t).toBeCloseTo(16.3186099194446, 8);
    expect(r?.pValue ?? 1).toBeCloseTo(9.317343373055642e-5, 12);
  });

  it('cannot measure noise with fewer than two runs on a side', () => {
    expect(welchTTest([0.97], [0.96, 0.95])).toBeUndefined();
    expect(welchTTest([0.97, 0.98], [0.96])).toBeUndefined();
  });

  it('decides by the means when neither side varies', () => {
    expect(welchTTest([1, 1, 1], [1, 1, 1])?.pValue).toBe(1);
    expect(welchTTest([1, 1, 1], [2, 2, 2])?.pValue).toBe(0);
  });
});

describe('mean and sample standard deviation', () => {
  it('use n − 1 for the spread', () => {
    expect(mean([1, 2, 3, 4])).toBe(2.5);
    expect(sampleStandardDeviation([2, 4, 4, 4, 5, 5, 7, 9])).toBeCloseTo(2.138089935299395, 14);
    expect(sampleStandardDeviation([5])).toBe(0);
  });
});
