/**
 * A bias added to every row (Qwen2's q/k/v projections): out (N, O) += b (O). Separate from the
 * bias-free linear so families without biases pay nothing.
 */
import type { Floats } from './floats.ts';

/** out[n, o] += b[o] for every row n < N. */
export function biasForward(out: Floats, b: Floats, N: number, O: number): void {
  for (let n = 0; n < N; n++) {
    const row = n * O;
    for (let o = 0; o < O; o++) out[row + o] += b[o];
  }
}

/** Inverts `out += b` broadcast over rows: db[o] += Σ_n dout[n, o]. Accumulates. */
export function biasBackward(db: Floats, dout: Floats, N: number, O: number): void {
  for (let n = 0; n < N; n++) {
    const row = n * O;
    for (let o = 0; o < O; o++) db[o] += dout[row + o];
  }
}
