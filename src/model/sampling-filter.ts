/**
 * Choosing the next token from one row of raw logits: greedy at temperature 0, otherwise a draw
 * from softmax(logits / temperature) restricted by top-k and then top-p (nucleus), with exactly
 * one uniform draw per token so a seeded stream reproduces. The returned logprob is that of the
 * tempered distribution, log_softmax(logits / temperature), filters not applied (the raw
 * log-softmax at temperature 0): the learner given the same temperature computes the same value,
 * which is what PPO and importance sampling compare against (spell-algorithm.md §7.2). Pure.
 */
import type { Rng } from '../core/rng.ts';

/** The filters in force for one request (already validated). */
export interface TokenFilter {
  readonly temperature: number;
  readonly topK: number;
  readonly topP: number;
}

/** A chosen token and its log-probability under softmax(logits / temperature). */
export interface Choice {
  readonly token: number;
  readonly logprob: number;
}

/** Pick a token from logits[off .. off+V). `probs` is V floats of scratch. */
export function chooseToken(
  logits: Float32Array,
  off: number,
  V: number,
  f: TokenFilter,
  rng: Rng,
  probs: Float64Array,
): Choice {
  let max = -Infinity;
  let arg = 0;
  for (let j = 0; j < V; j++) {
    const x = logits[off + j];
    if (x > max) {
      max = x;
      arg = j;
    }
  }
  let sum = 0;
  for (let j = 0; j < V; j++) sum += Math.exp(logits[off + j] - max);
  const lse = max + Math.log(sum);
  if (f.temperature === 0) return { token: arg, logprob: logits[off + arg] - lse };

  // Tempered probabilities (unnormalised, max subtracted).
  const invT = 1 / f.temperature;
  let total = 0;
  for (let j = 0; j < V; j++) {
    const e = Math.exp((logits[off + j] - max) * invT);
    probs[j] = e;
    total += e;
  }
  const useK = f.topK > 0 && f.topK < V;
  const useP = f.topP < 1;
  let token: number;
  if (!useK && !useP) {
    token = drawFrom(probs, null, V, total, rng);
  } else {
    // With top-k the candidates must hold the k best; without it, the nucleus mass.
    let idx = candidatesByProb(probs, V, useK ? f.topK : 0, useK ? 0 : f.topP * total);
    if (useK && idx.length > f.topK) idx = idx.slice(0, f.topK);
    if (useP) {
      // Top-p runs on the (renormalised) top-k distribution when both are set.
      let base = total;
      if (useK) {
        base = 0;
        for (let i = 0; i < idx.length; i++) base += probs[idx[i]];
      }
      const target = f.topP * base;
      let kept = 0;
      let cum = 0;
      while (kept < idx.length) {
        cum += probs[idx[kept]];
        kept++;
        if (cum >= target) break;
      }
      idx = idx.slice(0, kept);
    }
    let m = 0;
    for (let i = 0; i < idx.length; i++) m += probs[idx[i]];
    token = drawFrom(probs, idx, idx.length, m, rng);
  }
  // The logprob of the tempered distribution the token was drawn from (filters not applied), so
  // it equals the learner's logprob at the same temperature.
  return { token, logprob: (logits[off + token] - max) * invT - Math.log(total) };
}

/**
 * Token ids sorted by descending probability (ties: lower id first), cut to those that can
 * matter: at most `k`, and — to avoid sorting the whole vocabulary — only the tokens above a
 * threshold whose kept mass already reaches `massNeeded` (falling back to all tokens).
 */
function candidatesByProb(probs: Float64Array, V: number, k: number, massNeeded: number): number[] {
  let pmax = 0;
  for (let j = 0; j < V; j++) if (probs[j] > pmax) pmax = probs[j];
  let threshold = pmax * 1e-3;
  for (;;) {
    const idx: number[] = [];
    let mass = 0;
    for (let j = 0; j < V; j++) {
      if (probs[j] >= threshold) {
        idx.push(j);
        mass += probs[j];
      }
    }
    // Exact when the kept set holds the needed mass and at least k tokens (or everything).
    if ((mass >= massNeeded && idx.length >= k) || threshold === 0) {
      idx.sort((a, b) => probs[b] - probs[a] || a - b);
      return idx;
    }
    threshold = threshold > pmax * 1e-12 ? threshold * 1e-3 : 0;
  }
}

function drawFrom(
  probs: Float64Array,
  idx: readonly number[] | null,
  n: number,
  total: number,
  rng: Rng,
): number {
  const u = rng.next() * total;
  let cum = 0;
  for (let i = 0; i < n; i++) {
    const j = idx ? idx[i] : i;
    cum += probs[j];
    if (u < cum) return j;
  }
  // Rounding left u at the very top: return the last token with non-zero probability.
  for (let i = n - 1; i >= 0; i--) {
    const j = idx ? idx[i] : i;
    if (probs[j] > 0) return j;
  }
  return idx ? idx[0] : 0;
}

/**
 * The k most likely tokens of logits[off .. off+V) with their raw log-softmax values, most likely
 * first (ties: lower id first). What OpenAI's `top_logprobs` and Tinker's top-k prompt logprobs
 * report. One pass keeps a small sorted list, so k ≤ 20 costs O(V·k) at worst.
 */
export function topLogprobs(
  logits: Float32Array,
  off: number,
  V: number,
  k: number,
): [number, number][] {
  if (k <= 0) return [];
  let max = -Infinity;
  for (let j = 0; j < V; j++) if (logits[off + j] > max) max = logits[off + j];
  let sum = 0;
  for (let j = 0; j < V; j++) sum += Math.exp(logits[off + j] - max);
  const lse = max + Math.log(sum);
  const ids: number[] = [];
  for (let j = 0; j < V; j++) {
    const x = logits[off + j];
    if (ids.length === k && x <= logits[off + ids[k - 1]]) continue;
    let at = ids.length;
    while (at > 0 && logits[off + ids[at - 1]] < x) at--;
    ids.splice(at, 0, j);
    if (ids.length > k) ids.pop();
  }
  return ids.map((j) => [j, logits[off + j] - lse]);
}
