/**
 * Log-softmax over the vocabulary and the log-probability of a chosen token per row, plus the
 * backward from d(loss)/d(logprob) to the logits. Sums run in float64 with max subtraction.
 */
import type { Floats } from './floats.ts';

/**
 * For each row r of logits (R, V): lse[r] = log Σ exp(logits), and
 * logprobs[r] = logits[r, targets[r]] − lse[r]. When `probs` (R, V) is given, it receives the
 * softmax, so a following backward needs no second pass of exp over the vocabulary.
 */
export function tokenLogprobForward(
  logprobs: Floats,
  lse: Floats,
  logits: Floats,
  targets: ArrayLike<number>,
  R: number,
  V: number,
  probs: Floats | null = null,
): void {
  for (let r = 0; r < R; r++) {
    const o = r * V;
    let max = -Infinity;
    for (let j = 0; j < V; j++) if (logits[o + j] > max) max = logits[o + j];
    let sum = 0;
    if (probs) {
      for (let j = 0; j < V; j++) {
        const e = Math.exp(logits[o + j] - max);
        probs[o + j] = e;
        sum += e;
      }
      const inv = 1 / sum;
      for (let j = 0; j < V; j++) probs[o + j] *= inv;
    } else {
      for (let j = 0; j < V; j++) sum += Math.exp(logits[o + j] - max);
    }
    const l = max + Math.log(sum);
    lse[r] = l;
    logprobs[r] = logits[o + targets[r]] - l;
  }
}

/**
 * The fast backward over saved softmax: turns `probs` (R, V) in place into
 * dlogits = dlogprob · (1[j = y] − p_j). Rows with dlogprob = 0 become zeros. Same result as
 * `tokenLogprobBackward` into a zeroed buffer, without recomputing exp.
 */
export function tokenLogprobBackwardInPlace(
  probs: Floats,
  dlogprobs: Floats,
  targets: ArrayLike<number>,
  R: number,
  V: number,
): void {
  for (let r = 0; r < R; r++) {
    const g = dlogprobs[r];
    const o = r * V;
    for (let j = 0; j < V; j++) probs[o + j] *= -g;
    probs[o + targets[r]] += g;
  }
}

/**
 * Inverts `logprob = logits[y] − lse`: dlogits[j] += dlogprob · (1[j = y] − softmax_j).
 * Accumulates; rows with dlogprob = 0 are skipped.
 */
export function tokenLogprobBackward(
  dlogits: Floats,
  dlogprobs: Floats,
  logits: Floats,
  lse: Floats,
  targets: ArrayLike<number>,
  R: number,
  V: number,
): void {
  for (let r = 0; r < R; r++) {
    const g = dlogprobs[r];
    if (g === 0) continue;
    const o = r * V;
    const l = lse[r];
    for (let j = 0; j < V; j++) dlogits[o + j] -= g * Math.exp(logits[o + j] - l);
    dlogits[o + targets[r]] += g;
  }
}

/** Full log-softmax of one row into `out` (V); returns nothing. */
export function logSoftmaxRow(out: Floats, logits: Floats, off: number, V: number): void {
  let max = -Infinity;
  for (let j = 0; j < V; j++) if (logits[off + j] > max) max = logits[off + j];
  let sum = 0;
  for (let j = 0; j < V; j++) sum += Math.exp(logits[off + j] - max);
  const l = max + Math.log(sum);
  for (let j = 0; j < V; j++) out[j] = logits[off + j] - l;
}
