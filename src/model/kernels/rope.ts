/**
 * Rotary position embedding, HF "rotate_half" convention: each head vector of length HD is split
 * into halves (a, b) and pair i (a_i, b_i) is rotated by the angle pos · θ^(−2i/HD):
 *   a'_i = a_i·cos − b_i·sin,   b'_i = b_i·cos + a_i·sin.
 * Row t of a batch has position pos0 + t·posStride (stride 1 for a sequence, 0 for a decode batch
 * where every row sits at the same position), or `positions[t]` when given (a packed sequence of
 * a shared prefix and several continuations, each continuing the prefix's positions). Angles
 * are computed in float64.
 */
import type { Floats } from './floats.ts';

/** Inverse frequencies θ^(−2i/HD), i < HD/2. */
export function ropeInvFreq(theta: number, HD: number): Float64Array {
  const half = HD / 2;
  const inv = new Float64Array(half);
  for (let i = 0; i < half; i++) inv[i] = 1 / Math.pow(theta, (2 * i) / HD);
  return inv;
}

/** out (N, H, HD) = rotate(inp) row by row. `out` may be `inp` (in place). */
export function ropeForward(
  out: Floats,
  inp: Floats,
  N: number,
  H: number,
  HD: number,
  pos0: number,
  posStride: number,
  invFreq: Float64Array,
  positions: Int32Array | null = null,
): void {
  const half = HD / 2;
  for (let t = 0; t < N; t++) {
    const pos = positions ? positions[t] : pos0 + t * posStride;
    for (let i = 0; i < half; i++) {
      const ang = pos * invFreq[i];
      const c = Math.cos(ang);
      const s = Math.sin(ang);
      for (let h = 0; h < H; h++) {
        const o = (t * H + h) * HD;
        const a = inp[o + i];
        const b = inp[o + i + half];
        out[o + i] = a * c - b * s;
        out[o + i + half] = b * c + a * s;
      }
    }
  }
}

/** Inverts `out = R·inp` with the transpose rotation: dinp += Rᵀ·dout. Accumulates. */
export function ropeBackward(
  dinp: Floats,
  dout: Floats,
  N: number,
  H: number,
  HD: number,
  pos0: number,
  posStride: number,
  invFreq: Float64Array,
  positions: Int32Array | null = null,
): void {
  const half = HD / 2;
  for (let t = 0; t < N; t++) {
    const pos = positions ? positions[t] : pos0 + t * posStride;
    for (let i = 0; i < half; i++) {
      const ang = pos * invFreq[i];
      const c = Math.cos(ang);
      const s = Math.sin(ang);
      for (let h = 0; h < H; h++) {
        const o = (t * H + h) * HD;
        const da = dout[o + i];
        const db = dout[o + i + half];
        dinp[o + i] += da * c + db * s;
        dinp[o + i + half] += db * c - da * s;
      }
    }
  }
}
