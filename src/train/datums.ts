/**
 * Turns trajectories (prompt ids + sampled tokens + sampler logprobs + one advantage) into the
 * Tinker-style datums the PolicyEngine trains on. Pure.
 *
 * Alignment: position t of `modelInput` predicts `targetTokens[t]`; the full sequence is
 * prompt ++ response, modelInput = full[:-1], targets = full[1:]. Prompt positions carry advantage 0
 * (no loss on the prompt), response positions carry the sequence's advantage.
 *
 * Token-mean (decision 5): a summing engine is given advantages scaled by 1 / (trained tokens in the
 * batch), which turns its sum into the reference's token mean.
 */
import type { Datum, LossAggregation } from '../engine/types.ts';

export interface Trajectory {
  readonly promptIds: readonly number[];
  readonly tokens: readonly number[];
  readonly logprobs: readonly number[];
  readonly advantage: number;
}

export function buildDatum(t: Trajectory, scale: number): Datum {
  const full = [...t.promptIds, ...t.tokens];
  const n = full.length - 1;
  const P = t.promptIds.length;
  const logprobs = new Array<number>(n).fill(0);
  const advantages = new Array<number>(n).fill(0);
  // target index j = P - 1 + k predicts response token k
  for (let k = 0; k < t.tokens.length; k++) {
    logprobs[P - 1 + k] = t.logprobs[k] ?? 0;
    advantages[P - 1 + k] = t.advantage * scale;
  }
  return {
    modelInput: full.slice(0, n),
    targetTokens: full.slice(1),
    logprobs,
    advantages,
  };
}

/**
 * The advantage scale for a batch: token-mean on a summing engine divides by the number of trained
 * tokens; an engine that already averages per sequence, or `sum` mode, uses 1.
 */
export function advantageScale(
  trajectories: readonly Trajectory[],
  mode: 'token-mean' | 'sum',
  engine: LossAggregation,
): number {
  if (mode === 'sum' || engine === 'sequence-token-mean') return 1;
  let tokens = 0;
  for (const t of trajectories) tokens += t.tokens.length;
  return tokens > 0 ? 1 / tokens : 1;
}

/** Trajectories with no response tokens carry no gradient and are left out. */
export function buildDatums(
  trajectories: readonly Trajectory[],
  mode: 'token-mean' | 'sum',
  engine: LossAggregation,
): Datum[] {
  const scale = advantageScale(trajectories, mode, engine);
  return trajectories.filter((t) => t.tokens.length > 0).map((t) => buildDatum(t, scale));
}
