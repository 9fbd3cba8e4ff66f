/**
 * Wall-clock timing for benchmarks: run a function repeatedly for a time budget and keep the
 * fastest run. The machine is shared and noisy, so the minimum is the figure least disturbed by
 * other processes; the median is reported beside it. Not for tests: tests never assert speed.
 */

/** Timing summary of repeated runs, in seconds. */
export interface Timing {
  readonly best: number;
  readonly median: number;
  readonly runs: number;
}

/**
 * Run `fn` once to warm up, then until `budgetMs` has passed (at least `minRuns` and at most
 * `maxRuns` timed runs).
 */
export function timeRuns(fn: () => void, budgetMs: number, minRuns = 1, maxRuns = 1000): Timing {
  fn();
  const times: number[] = [];
  const start = performance.now();
  while (
    times.length < maxRuns &&
    (times.length < minRuns || performance.now() - start < budgetMs)
  ) {
    const t0 = performance.now();
    fn();
    times.push((performance.now() - t0) / 1000);
  }
  times.sort((a, b) => a - b);
  return { best: times[0], median: times[Math.floor(times.length / 2)], runs: times.length };
}

/** Round to `digits` significant figures, for readable JSON. */
export function sig(x: number, digits = 3): number {
  if (!Number.isFinite(x) || x === 0) return x;
  return Number(x.toPrecision(digits));
}
