/**
 * Which trained positions of an example a short-context lookup cannot resolve.
 *
 * A copied token is "ambiguous" when the LOOKUP_CONTEXT tokens before it occur in the prompt more
 * than once, followed by different tokens: matching on those tokens (the induction mechanism)
 * finds every candidate equally, and only knowing which passage is being copied picks the right
 * one. In the synthetic documents these are the values after a shared template ("… is a town in
 * the region of" → which region), i.e. the answers. Measured on a model trained with the `quote`
 * drill (held-out quote targets): 0.34 nats on positions with a unique 4-token context, 1.86 on
 * ambiguous ones (about chance among the candidates), so the held-out loss on these positions
 * is reported on its own. Pure.
 */
import type { EncodedExample } from './encode.ts';

/** Tokens of context the measure keys on. */
export const LOOKUP_CONTEXT = 4;

/**
 * For each loss position t of `ex` (position t predicts ids[t + 1]), whether it is ambiguous:
 * the LOOKUP_CONTEXT tokens ending at t occur in the prompt with at least two different next
 * tokens. Positions before the trained part are false.
 */
export function ambiguousPositions(ex: EncodedExample, k = LOOKUP_CONTEXT): boolean[] {
  const ids = ex.ids;
  const P = ex.promptTokens;
  // Every k-gram of the prompt (whose next token is also in the prompt) → its next tokens.
  const next = new Map<string, Set<number>>();
  for (let s = k - 1; s + 1 < P; s++) {
    const key = ids.slice(s - k + 1, s + 1).join(',');
    const set = next.get(key) ?? new Set<number>();
    set.add(ids[s + 1]);
    next.set(key, set);
  }
  const out = new Array<boolean>(Math.max(0, ids.length - 1)).fill(false);
  const first = Math.max(1, P) - 1;
  for (let t = Math.max(first, k - 1); t < ids.length - 1; t++) {
    const set = next.get(ids.slice(t - k + 1, t + 1).join(','));
    out[t] = set !== undefined && set.size > 1;
  }
  return out;
}
