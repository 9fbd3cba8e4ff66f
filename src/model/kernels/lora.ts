/**
 * A LoRA adapter on a bias-free linear layer (HF layout W (O, I)):
 *   out (N, O) = inp · Wᵀ + s · (inp · Aᵀ) · Bᵀ,  A (r, I), B (O, r), s = alpha / r.
 * The pair here adds only the adapter term; the frozen base term is `linearForward`, and its
 * backward is `linearBackward` with no weight gradient. The forward saves us = s · inp · Aᵀ (N, r)
 * for the backward, so the backward never recomputes the (N, I)·(I, r) product.
 * The fast pair runs on `gemm`; the naive pair (generic over Float32/Float64) is the reference.
 */
import { gemm } from './gemm.ts';
import type { Floats } from './floats.ts';

/** out (N, O) += us · Bᵀ where us (N, r) = s · inp · Aᵀ is written for the backward. */
export function loraForward(
  out: Float32Array,
  us: Float32Array,
  inp: Float32Array,
  A: Float32Array,
  B: Float32Array,
  N: number,
  I: number,
  O: number,
  r: number,
  s: number,
): void {
  gemm(false, true, N, r, I, inp, A, us, false);
  for (let i = 0; i < N * r; i++) us[i] *= s;
  gemm(false, true, N, O, r, us, B, out, true);
}

/**
 * Inverts the adapter term: dB (O, r) += doutᵀ · us; t = s · dout · B (N, r);
 * dA (r, I) += tᵀ · inp; dinp (N, I) += t · A (when given). Accumulates; `t` is scratch (N·r).
 */
export function loraBackward(
  dinp: Float32Array | null,
  dA: Float32Array,
  dB: Float32Array,
  t: Float32Array,
  dout: Float32Array,
  inp: Float32Array,
  us: Float32Array,
  A: Float32Array,
  B: Float32Array,
  N: number,
  I: number,
  O: number,
  r: number,
  s: number,
): void {
  gemm(true, false, O, r, N, dout, us, dB, true);
  gemm(false, false, N, r, O, dout, B, t, false);
  for (let i = 0; i < N * r; i++) t[i] *= s;
  gemm(true, false, r, I, N, t, inp, dA, true);
  if (dinp) gemm(false, false, N, I, r, t, A, dinp, true);
}

/** Reference forward: out += s · (inp · Aᵀ) · Bᵀ with plain loops and float64 sums. */
export function loraForwardNaive(
  out: Floats,
  inp: Floats,
  A: Floats,
  B: Floats,
  N: number,
  I: number,
  O: number,
  r: number,
  s: number,
): void {
  const u = new Float64Array(r);
  for (let n = 0; n < N; n++) {
    for (let k = 0; k < r; k++) {
      let acc = 0;
      for (let i = 0; i < I; i++) acc += inp[n * I + i] * A[k * I + i];
      u[k] = acc;
    }
    for (let o = 0; o < O; o++) {
      let acc = 0;
      for (let k = 0; k < r; k++) acc += u[k] * B[o * r + k];
      out[n * O + o] += s * acc;
    }
  }
}

/** Reference backward: plain loops, recomputing inp · Aᵀ. Accumulates. */
export function loraBackwardNaive(
  dinp: Floats,
  dA: Floats,
  dB: Floats,
  dout: Floats,
  inp: Floats,
  A: Floats,
  B: Floats,
  N: number,
  I: number,
  O: number,
  r: number,
  s: number,
): void {
  for (let n = 0; n < N; n++) {
    for (let k = 0; k < r; k++) {
      let u = 0;
      for (let i = 0; i < I; i++) u += inp[n * I + i] * A[k * I + i];
      let du = 0;
      for (let o = 0; o < O; o++) {
        dB[o * r + k] += s * dout[n * O + o] * u;
        du += dout[n * O + o] * B[o * r + k];
      }
      du *= s;
      for (let i = 0; i < I; i++) {
        dA[k * I + i] += du * inp[n * I + i];
        dinp[n * I + i] += du * A[k * I + i];
      }
    }
  }
}

/** W (O, I) += s · B · A: the adapter merged into its base weight (export, sampling). */
export function loraMergeInto(
  W: Float32Array,
  A: Float32Array,
  B: Float32Array,
  I: number,
  O: number,
  r: number,
  s: number,
): void {
  const Bs = new Float32Array(O * r);
  for (let i = 0; i < O * r; i++) Bs[i] = B[i] * s;
  gemm(false, false, O, I, r, Bs, A, W, true);
}
