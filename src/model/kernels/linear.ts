/**
 * A bias-free linear layer with HF weight layout W (O, I): out (N, O) = inp (N, I) · Wᵀ.
 * The fast pair runs on `gemm`; the naive pair is the reference (and, being generic over
 * Float32Array/Float64Array, the one the finite-difference checks run in float64).
 */
import { gemm } from './gemm.ts';
import type { Floats } from './floats.ts';

/** out (N, O) = inp (N, I) · Wᵀ, with W stored (O, I). */
export function linearForward(
  out: Float32Array,
  inp: Float32Array,
  W: Float32Array,
  N: number,
  I: number,
  O: number,
): void {
  gemm(false, true, N, O, I, inp, W, out, false);
}

/**
 * Inverts `out = inp · Wᵀ`: dinp (N, I) += dout · W; dW (O, I) += doutᵀ · inp. Accumulates.
 * A null `dW` (a frozen weight, as under LoRA) skips the weight-gradient gemm.
 */
export function linearBackward(
  dinp: Float32Array | null,
  dW: Float32Array | null,
  dout: Float32Array,
  inp: Float32Array,
  W: Float32Array,
  N: number,
  I: number,
  O: number,
): void {
  if (dinp) gemm(false, false, N, I, O, dout, W, dinp, true);
  if (dW) gemm(true, false, O, I, N, dout, inp, dW, true);
}

/** Reference forward: plain loops with float64 sums. */
export function linearForwardNaive(
  out: Floats,
  inp: Floats,
  W: Floats,
  N: number,
  I: number,
  O: number,
): void {
  for (let n = 0; n < N; n++) {
    for (let o = 0; o < O; o++) {
      let s = 0;
      for (let i = 0; i < I; i++) s += inp[n * I + i] * W[o * I + i];
      out[n * O + o] = s;
    }
  }
}

/** Reference backward: plain loops. Accumulates. */
export function linearBackwardNaive(
  dinp: Floats,
  dW: Floats,
  dout: Floats,
  inp: Floats,
  W: Floats,
  N: number,
  I: number,
  O: number,
): void {
  for (let n = 0; n < N; n++) {
    for (let o = 0; o < O; o++) {
      const d = dout[n * O + o];
      for (let i = 0; i < I; i++) {
        dinp[n * I + i] += d * W[o * I + i];
        dW[o * I + i] += d * inp[n * I + i];
      }
    }
  }
}
