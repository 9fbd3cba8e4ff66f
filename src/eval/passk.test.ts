import { describe, expect, test } from 'vitest';
import { Mt19937 } from './mt19937.ts';
import { bootstrapBestOfK, passAtK, referenceKs } from './passk.ts';

// Hand-computed 1 − C(8−c, k)/C(8, k) for k = 1, 2, 4, 8 (C(8,k) = 8, 28, 70, 1).
const UNBIASED_N8: readonly (readonly [number, readonly number[]])[] = [
  [0, [0, 0, 0, 0]],
  [1, [1 / 8, 1 - 21 / 28, 1 - 35 / 70, 1]],
  [2, [2 / 8, 1 - 15 / 28, 1 - 15 / 70, 1]],
  [3, [3 / 8, 1 - 10 / 28, 1 - 5 / 70, 1]],
  [4, [4 / 8, 1 - 6 / 28, 1 - 1 / 70, 1]],
  [5, [5 / 8, 1 - 3 / 28, 1, 1]],
  [6, [6 / 8, 1 - 1 / 28, 1, 1]],
  [7, [7 / 8, 1, 1, 1]],
  [8, [1, 1, 1, 1]],
];

describe('unbiased pass@k', () => {
  test.each(UNBIASED_N8)(
    'n = 8, c = %i matches the hand-computed values at k = 1, 2, 4, 8',
    (c, want) => {
      const got = [1, 2, 4, 8].map((k) => passAtK(8, c, k));
      got.forEach((g, i) => expect(g).toBeCloseTo(want[i], 12));
    },
  );

  test('pass@1 is the fraction correct, and pass@n is 1 as soon as one sample is correct', () => {
    for (let n = 1; n <= 16; n++) {
      for (let c = 0; c <= n; c++) {
        expect(passAtK(n, c, 1)).toBeCloseTo(c / n, 12);
        expect(passAtK(n, c, n)).toBe(c > 0 ? 1 : 0);
      }
    }
  });

  test('pass@k never decreases in k or in c and stays in [0, 1]', () => {
    const n = 12;
    for (let c = 0; c <= n; c++) {
      for (let k = 1; k <= n; k++) {
        const v = passAtK(n, c, k);
        expect(v).toBeGreaterThanOrEqual(0);
        expect(v).toBeLessThanOrEqual(1);
        if (k > 1) expect(v).toBeGreaterThanOrEqual(passAtK(n, c, k - 1) - 1e-12);
        if (c > 0) expect(v).toBeGreaterThanOrEqual(passAtK(n, c - 1, k) - 1e-12);
      }
    }
  });

  test('impossible arguments are rejected', () => {
    expect(() => passAtK(8, 9, 1)).toThrow(/0 <= c <= n/);
    expect(() => passAtK(8, 1, 9)).toThrow(/1 <= k <= n/);
  });
});

describe('the released code bootstrap', () => {
  test('MT19937 seeded 42 gives numpy legacy choice(8, 8) = [6, 3, 4, 6, 2, 7, 4, 4]', () => {
    const mt = new Mt19937(42);
    expect(Array.from({ length: 8 }, () => mt.legacyBoundedInt(8))).toEqual([
      6, 3, 4, 6, 2, 7, 4, 4,
    ]);
    expect(new Mt19937(42).nextUint32()).toBe(1608637542);
  });

  // spell-eval.md §11: one question, c correct first, best@2 / best@4 / best@8.
  const CODE_TABLE: readonly (readonly [number, number, number, number])[] = [
    [1, 0.252, 0.412, 0.651],
    [2, 0.449, 0.668, 0.89],
    [3, 0.617, 0.84, 0.974],
    [4, 0.746, 0.94, 0.995],
    [5, 0.856, 0.977, 1.0],
    [6, 0.931, 0.998, 1.0],
    [7, 0.987, 1.0, 1.0],
  ];
  test.each(CODE_TABLE)(
    'c = %i correct first reproduces best@2/4/8 of the reference',
    (c, b2, b4, b8) => {
      const values = Array.from({ length: 8 }, (_, i) => (i < c ? 1 : 0));
      expect(bootstrapBestOfK(values, 2).mean).toBeCloseTo(b2, 3);
      expect(bootstrapBestOfK(values, 4).mean).toBeCloseTo(b4, 3);
      expect(bootstrapBestOfK(values, 8).mean).toBeCloseTo(b8, 3);
    },
  );

  test('the bootstrap underestimates the unbiased pass@8 (c = 1: about 0.65 instead of 1)', () => {
    const values = [1, 0, 0, 0, 0, 0, 0, 0];
    expect(bootstrapBestOfK(values, 8).mean).toBeLessThan(0.7);
    expect(passAtK(8, 1, 8)).toBe(1);
  });

  test('reported k values are the powers of two below n, plus n', () => {
    expect(referenceKs(8)).toEqual([2, 4, 8]);
    expect(referenceKs(6)).toEqual([2, 4, 6]);
  });
});
