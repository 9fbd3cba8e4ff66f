/**
 * pass@k estimators (spell-eval.md §11). The paper states the unbiased estimator
 * 1 − C(n−c, k)/C(n, k); the released code instead bootstraps the max of k draws with replacement
 * (1000 draws, numpy legacy seed 42 reset per call), which is reproduced exactly here with
 * MT19937 so the as-coded numbers can be compared with the paper's figure. Pure and synchronous.
 */
import { ConfigurationError } from '../core/errors.ts';
import { Mt19937 } from './mt19937.ts';

/**
 * Unbiased pass@k for one question with c correct out of n samples, computed as a product so it
 * stays exact-ish for large n: 1 − ∏_{i=n−c+1}^{n} (1 − k/i).
 * @example passAtK(8, 1, 2) === 0.25
 */
export function passAtK(n: number, c: number, k: number): number {
  if (!Number.isInteger(n) || !Number.isInteger(c) || !Number.isInteger(k)) {
    throw new ConfigurationError(`pass@k needs integers, got n=${n} c=${c} k=${k}`);
  }
  if (n < 1 || c < 0 || c > n || k < 1 || k > n) {
    throw new ConfigurationError(
      `pass@k needs 0 <= c <= n and 1 <= k <= n, got n=${n} c=${c} k=${k}`,
    );
  }
  if (n - c < k) return 1;
  let fail = 1;
  for (let i = n - c + 1; i <= n; i++) fail *= 1 - k / i;
  return 1 - fail;
}

/** Mean and population std of the bootstrap maxima (the code's `best@k/mean` and `best@k/std`). */
export interface BootstrapStat {
  readonly mean: number;
  readonly std: number;
}

/**
 * The released code's `bootstrap_metric(values, k, max)`: reseed numpy's legacy generator with 42,
 * then 1000 times draw k indices with replacement (`np.random.choice(n, k)`) and take the max (or
 * min for `worst@k`) of the selected values.
 */
export function bootstrapBestOfK(
  values: readonly number[],
  k: number,
  reduce: 'max' | 'min' = 'max',
  draws = 1000,
  seed = 42,
): BootstrapStat {
  const n = values.length;
  if (n < 1 || !Number.isInteger(k) || k < 1) {
    throw new ConfigurationError(`bootstrap needs values and k >= 1, got n=${n} k=${k}`);
  }
  const mt = new Mt19937(seed);
  const results = new Float64Array(draws);
  for (let d = 0; d < draws; d++) {
    let best = reduce === 'max' ? -Infinity : Infinity;
    for (let j = 0; j < k; j++) {
      const v = values[mt.legacyBoundedInt(n)];
      best = reduce === 'max' ? Math.max(best, v) : Math.min(best, v);
    }
    results[d] = best;
  }
  let sum = 0;
  for (const r of results) sum += r;
  const mean = sum / draws;
  let sq = 0;
  for (const r of results) sq += (r - mean) ** 2;
  return { mean, std: Math.sqrt(sq / draws) };
}

/** The k values the released code reports: powers of two below n, plus n (n=8 → 2, 4, 8). */
export function referenceKs(n: number): number[] {
  const ks: number[] = [];
  for (let k = 2; k < n; k *= 2) ks.push(k);
  if (n >= 2) ks.push(n);
  return ks;
}
