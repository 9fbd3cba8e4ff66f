/**
 * RMSNorm as Qwen3 uses it: y = x / sqrt(mean(x²) + eps) · w (no mean subtraction, no bias, the
 * weight multiplies directly — not 1 + w). Rows of length D; the per-head q/k norms are the same
 * kernel over (T·heads) rows of head_dim. Statistics are summed in float64.
 */
import type { Floats } from './floats.ts';

/** out (N, D) = inp · rstd · weight; writes rstd (N) for the backward. */
export function rmsnormForward(
  out: Floats,
  rstd: Floats,
  inp: Floats,
  weight: Floats,
  N: number,
  D: number,
  eps: number,
): void {
  for (let n = 0; n < N; n++) {
    const o = n * D;
    let ss = 0;
    for (let i = 0; i < D; i++) ss += inp[o + i] * inp[o + i];
    const r = 1 / Math.sqrt(ss / D + eps);
    rstd[n] = r;
    for (let i = 0; i < D; i++) out[o + i] = inp[o + i] * r * weight[i];
  }
}

/**
 * Inverts `out = inp · rstd · weight`. With xhat = inp·rstd and g = dout·weight:
 * dinp += rstd · (g − xhat · mean(g · xhat)), dweight += Σ_rows dout · xhat. Accumulates.
 * A null `dweight` (a frozen weight, as under LoRA) skips the weight gradient.
 */
export function rmsnormBackward(
  dinp: Floats,
  dweight: Floats | null,
  dout: Floats,
  inp: Floats,
  weight: Floats,
  rstd: Floats,
  N: number,
  D: number,
): void {
  for (let n = 0; n < N; n++) {
    const o = n * D;
    const r = rstd[n];
    let dot = 0;
    for (let i = 0; i < D; i++) dot += dout[o + i] * weight[i] * inp[o + i] * r;
    const meanDot = dot / D;
    for (let i = 0; i < D; i++) {
      const xhat = inp[o + i] * r;
      if (dweight) dweight[i] += dout[o + i] * xhat;
      dinp[o + i] += r * (dout[o + i] * weight[i] - xhat * meanDot);
    }
  }
}
