/**
 * Token embedding: a row gather from the (V, C) table, and its backward, a scatter-add.
 */
import type { Floats } from './floats.ts';

/** out (T, C) = wte[tokens[t]] for each t. */
export function embeddingForward(
  out: Floats,
  tokens: ArrayLike<number>,
  wte: Floats,
  T: number,
  C: number,
): void {
  for (let t = 0; t < T; t++) {
    const row = tokens[t] * C;
    const o = t * C;
    for (let i = 0; i < C; i++) out[o + i] = wte[row + i];
  }
}

/** dwte[tokens[t]] += dout[t] (inverts `out[t] = wte[tokens[t]]`; repeated tokens add up). */
export function embeddingBackward(
  dwte: Floats,
  dout: Floats,
  tokens: ArrayLike<number>,
  T: number,
  C: number,
): void {
  for (let t = 0; t < T; t++) {
    const row = tokens[t] * C;
    const o = t * C;
    for (let i = 0; i < C; i++) dwte[row + i] += dout[o + i];
  }
}
