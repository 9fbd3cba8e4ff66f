/**
 * Learning-rate schedule of pretraining: linear warm-up, then cosine decay to a floor at the last
 * step. A function of the step only (never of the clock), so a run is deterministic for its seed.
 */

export interface LrSchedule {
  /** Peak learning rate, reached at the end of warm-up. */
  readonly peak: number;
  readonly warmupSteps: number;
  readonly totalSteps: number;
  /** The final learning rate as a fraction of the peak. */
  readonly floorRatio: number;
}

/**
 * Learning rate of optimizer step `step` (1-based).
 * @example learningRateAt({ peak: 1e-3, warmupSteps: 10, totalSteps: 100, floorRatio: 0.1 }, 5) === 5e-4
 */
export function learningRateAt(s: LrSchedule, step: number): number {
  if (step <= s.warmupSteps) return (s.peak * step) / Math.max(1, s.warmupSteps);
  const span = Math.max(1, s.totalSteps - s.warmupSteps);
  const progress = Math.min(1, (step - s.warmupSteps) / span);
  const floor = s.peak * s.floorRatio;
  return floor + (s.peak - floor) * 0.5 * (1 + Math.cos(Math.PI * progress));
}
