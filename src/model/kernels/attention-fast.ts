/**
 * Causal grouped-query attention through the matrix multiply, for float32 training sequences and
 * prefills. Same contract and layouts as `attention.ts` (the plain-loop reference it is tested
 * against): q (Tq, NH, HD), k and v (Tk, NKV, HD), out (Tq, NH, HD), att (NH, Tq, Tk) holding the
 * probabilities (0 above the causal diagonal).
 *
 * Per head: S = Q·Kᵀ (one gemm), masked softmax per row, O = P·V (one gemm). The backward is four
 * gemms per head. Computing the masked upper triangle wastes up to half the multiply-adds, but a
 * packed gemm is ~100× faster than the scalar loops, which dominated the step time before.
 */
import { gemm } from './gemm.ts';

/** Grow-only scratch buffers (one set per thread: each worker has its own module instance). */
let scratch = new Float32Array(0);
function buffer(n: number): Float32Array {
  if (scratch.length < n) scratch = new Float32Array(Math.max(n, Math.ceil(scratch.length * 1.5)));
  return scratch;
}

/** Copy head `off` of a (T, stride) row layout into a contiguous (T, HD) block. */
function gather(
  dst: Float32Array,
  src: Float32Array,
  T: number,
  stride: number,
  off: number,
  HD: number,
) {
  for (let t = 0; t < T; t++) {
    const s = t * stride + off;
    const d = t * HD;
    for (let i = 0; i < HD; i++) dst[d + i] = src[s + i];
  }
}

/** Add a contiguous (T, HD) block into head `off` of a (T, stride) row layout. */
function scatterAdd(
  dst: Float32Array,
  src: Float32Array,
  T: number,
  stride: number,
  off: number,
  HD: number,
) {
  for (let t = 0; t < T; t++) {
    const d = t * stride + off;
    const s = t * HD;
    for (let i = 0; i < HD; i++) dst[d + i] += src[s + i];
  }
}

/** Attention forward; writes `out` and the probabilities `att`. */
export function attentionForwardFast(
  out: Float32Array,
  att: Float32Array,
  q: Float32Array,
  k: Float32Array,
  v: Float32Array,
  Tq: number,
  Tk: number,
  NH: number,
  NKV: number,
  HD: number,
): void {
  const group = NH / NKV;
  const scale = 1 / Math.sqrt(HD);
  const qStride = NH * HD;
  const kvStride = NKV * HD;
  const past = Tk - Tq;
  // scratch layout: Qh (Tq,HD) | Kh (Tk,HD) | Vh (Tk,HD) | Oh (Tq,HD)
  const buf = buffer(2 * Tq * HD + 2 * Tk * HD);
  const Qh = buf.subarray(0, Tq * HD);
  const Kh = buf.subarray(Tq * HD, Tq * HD + Tk * HD);
  const Vh = buf.subarray(Tq * HD + Tk * HD, Tq * HD + 2 * Tk * HD);
  const Oh = buf.subarray(Tq * HD + 2 * Tk * HD, 2 * Tq * HD + 2 * Tk * HD);
  for (let kv = 0; kv < NKV; kv++) {
    gather(Kh, k, Tk, kvStride, kv * HD, HD);
    gather(Vh, v, Tk, kvStride, kv * HD, HD);
    for (let g = 0; g < group; g++) {
      const h = kv * group + g;
      gather(Qh, q, Tq, qStride, h * HD, HD);
      const P = att.subarray(h * Tq * Tk, (h + 1) * Tq * Tk);
      gemm(false, true, Tq, Tk, HD, Qh, Kh, P, false);
      for (let t = 0; t < Tq; t++) {
        const row = t * Tk;
        const last = past + t;
        let max = -Infinity;
        for (let u = 0; u <= last; u++) {
          const s = P[row + u] * scale;
          P[row + u] = s;
          if (s > max) max = s;
        }
        let sum = 0;
        for (let u = 0; u <= last; u++) {
          const e = Math.exp(P[row + u] - max);
          P[row + u] = e;
          sum += e;
        }
        const inv = 1 / sum;
        for (let u = 0; u <= last; u++) P[row + u] *= inv;
        for (let u = last + 1; u < Tk; u++) P[row + u] = 0;
      }
      gemm(false, false, Tq, HD, Tk, P, Vh, Oh, false);
      for (let t = 0; t < Tq; t++) {
        const d = t * qStride + h * HD;
        const s = t * HD;
        for (let i = 0; i < HD; i++) out[d + i] = Oh[s + i];
      }
    }
  }
}

/** Attention backward; accumulates into dq, dk, dv (see `attentionBackward` for the algebra). */
export function attentionBackwardFast(
  dq: Float32Array,
  dk: Float32Array,
  dv: Float32Array,
  dout: Float32Array,
  q: Float32Array,
  k: Float32Array,
  v: Float32Array,
  att: Float32Array,
  Tq: number,
  Tk: number,
  NH: number,
  NKV: number,
  HD: number,
): void {
  const group = NH / NKV;
  const scale = 1 / Math.sqrt(HD);
  const qStride = NH * HD;
  const kvStride = NKV * HD;
  const past = Tk - Tq;
  // scratch: Qh, dOh, dQh (Tq,HD) | Kh, Vh, dKh, dVh (Tk,HD) | dS (Tq,Tk)
  const nq = Tq * HD;
  const nk = Tk * HD;
  const buf = buffer(3 * nq + 4 * nk + Tq * Tk);
  let o = 0;
  const take = (n: number): Float32Array => buf.subarray(o, (o += n));
  const Qh = take(nq);
  const dOh = take(nq);
  const dQh = take(nq);
  const Kh = take(nk);
  const Vh = take(nk);
  const dKh = take(nk);
  const dVh = take(nk);
  const dS = take(Tq * Tk);
  for (let kv = 0; kv < NKV; kv++) {
    gather(Kh, k, Tk, kvStride, kv * HD, HD);
    gather(Vh, v, Tk, kvStride, kv * HD, HD);
    dKh.fill(0);
    dVh.fill(0);
    for (let g = 0; g < group; g++) {
      const h = kv * group + g;
      gather(Qh, q, Tq, qStride, h * HD, HD);
      gather(dOh, dout, Tq, qStride, h * HD, HD);
      const P = att.subarray(h * Tq * Tk, (h + 1) * Tq * Tk);
      // dV += Pᵀ·dO ; dP = dO·Vᵀ (into dS)
      gemm(true, false, Tk, HD, Tq, P, dOh, dVh, true);
      gemm(false, true, Tq, Tk, HD, dOh, Vh, dS, false);
      // dS = P ∘ (dP − rowsum(P ∘ dP)) · scale, zero above the diagonal
      for (let t = 0; t < Tq; t++) {
        const row = t * Tk;
        const last = past + t;
        let pdp = 0;
        for (let u = 0; u <= last; u++) pdp += P[row + u] * dS[row + u];
        for (let u = 0; u <= last; u++) dS[row + u] = P[row + u] * (dS[row + u] - pdp) * scale;
        for (let u = last + 1; u < Tk; u++) dS[row + u] = 0;
      }
      // dQ = dS·K ; dK += dSᵀ·Q
      gemm(false, false, Tq, HD, Tk, dS, Kh, dQh, false);
      scatterAdd(dq, dQh, Tq, qStride, h * HD, HD);
      gemm(true, false, Tk, HD, Tq, dS, Qh, dKh, true);
    }
    scatterAdd(dk, dKh, Tk, kvStride, kv * HD, HD);
    scatterAdd(dv, dVh, Tk, kvStride, kv * HD, HD);
  }
}
