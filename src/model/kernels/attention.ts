/**
 * Causal grouped-query attention (softmax(q·kᵀ/√HD) · v) over already normed and rotated q/k.
 * Query head h reads kv head ⌊h / (NH/NKV)⌋. Queries may be the last Tq of Tk positions (Tq = Tk
 * for a training sequence or a prefill, Tq = 1 for one decode step against a KV cache): query t
 * sits at position Tk − Tq + t and sees keys 0..that position.
 *
 * Layouts: q (Tq, NH, HD), k and v (Tk, NKV, HD), out (Tq, NH, HD), att (NH, Tq, Tk) holding the
 * softmax probabilities the backward needs (entries above the causal diagonal are left at 0).
 * Plain loops: this is the reference and, at the sizes the embedded engine trains, the cost is
 * dominated by the projections, not by these O(T²·HD) loops.
 */
import type { Floats } from './floats.ts';

/** Attention forward; writes `out` and the probabilities `att`. */
export function attentionForward(
  out: Floats,
  att: Floats,
  q: Floats,
  k: Floats,
  v: Floats,
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
  for (let h = 0; h < NH; h++) {
    const kvOff = Math.floor(h / group) * HD;
    for (let t = 0; t < Tq; t++) {
      const qo = t * qStride + h * HD;
      const row = (h * Tq + t) * Tk;
      const last = past + t;
      let max = -Infinity;
      for (let u = 0; u <= last; u++) {
        const ko = u * kvStride + kvOff;
        let s = 0;
        for (let i = 0; i < HD; i++) s += q[qo + i] * k[ko + i];
        s *= scale;
        att[row + u] = s;
        if (s > max) max = s;
      }
      let sum = 0;
      for (let u = 0; u <= last; u++) {
        const e = Math.exp(att[row + u] - max);
        att[row + u] = e;
        sum += e;
      }
      const inv = 1 / sum;
      for (let u = 0; u <= last; u++) att[row + u] *= inv;
      for (let u = last + 1; u < Tk; u++) att[row + u] = 0;
      for (let i = 0; i < HD; i++) out[qo + i] = 0;
      for (let u = 0; u <= last; u++) {
        const p = att[row + u];
        const vo = u * kvStride + kvOff;
        for (let i = 0; i < HD; i++) out[qo + i] += p * v[vo + i];
      }
    }
  }
}

/**
 * Inverts `out_t = Σ_u p_tu · v_u` with `p_t = softmax(scale · q_t·k_u)`:
 * dv_u += p_tu·dout_t; dp_tu = dout_t·v_u; ds_tu = p_tu·(dp_tu − Σ_u' p_tu'·dp_tu');
 * dq_t += scale·Σ_u ds_tu·k_u; dk_u += scale·ds_tu·q_t. Accumulates into dq, dk, dv.
 */
export function attentionBackward(
  dq: Floats,
  dk: Floats,
  dv: Floats,
  dout: Floats,
  q: Floats,
  k: Floats,
  v: Floats,
  att: Floats,
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
  const dp = new Float64Array(Tk);
  for (let h = 0; h < NH; h++) {
    const kvOff = Math.floor(h / group) * HD;
    for (let t = 0; t < Tq; t++) {
      const qo = t * qStride + h * HD;
      const row = (h * Tq + t) * Tk;
      const last = past + t;
      let pdp = 0;
      for (let u = 0; u <= last; u++) {
        const vo = u * kvStride + kvOff;
        const p = att[row + u];
        let d = 0;
        for (let i = 0; i < HD; i++) {
          d += dout[qo + i] * v[vo + i];
          dv[vo + i] += p * dout[qo + i];
        }
        dp[u] = d;
        pdp += p * d;
      }
      for (let u = 0; u <= last; u++) {
        const ds = att[row + u] * (dp[u] - pdp) * scale;
        if (ds === 0) continue;
        const ko = u * kvStride + kvOff;
        for (let i = 0; i < HD; i++) {
          dq[qo + i] += ds * k[ko + i];
          dk[ko + i] += ds * q[qo + i];
        }
      }
    }
  }
}
