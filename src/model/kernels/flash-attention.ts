/**
 * Causal grouped-query attention that keeps only the log-sum-exp of each query row instead of the
 * (NH, Tq, Tk) probability matrix: memory O(T) instead of O(T²), which is what makes an 8k-token
 * prefill or a 2k-token training sequence fit. Same layouts and causal convention as
 * `attention.ts` (the plain-loop reference it is tested against): q (Tq, NH, HD), k and v
 * (Tk, NKV, HD), out (Tq, NH, HD), lse (NH, Tq); query t sits at position Tk − Tq + t.
 *
 * Two implementations behind one call, following the gemm backend switch: the native addon's
 * blocked flash kernels (native/attention.c: online softmax, vectorised exp, both cores) and plain
 * loops here (the fallback when the addon is not built). The backward recomputes the probabilities
 * from lse, so it needs the forward's `out` and `lse`, not a saved matrix.
 *
 * Optional segments let one call run a packed sequence: a shared prefix followed by several
 * continuations of it, each seeing the prefix and its own earlier tokens but not the others
 * (the shared-prompt training path, model/shared-prefix.ts).
 */
import type { Floats } from './floats.ts';
import { activeNativeAddon, gemmThreads } from './gemm.ts';
import type { NativeGemmAddon } from './gemm-native.ts';

/**
 * Segments of a packed sequence. Query row i sees keys [0, min(prefix, segStart[i])) and
 * [segStart[i], its position]: segStart[i] = 0 is the plain causal row (a prefix row), and a
 * continuation's rows have segStart = where the continuation starts (≥ prefix).
 */
export interface AttentionSegments {
  readonly prefix: number;
  /** (Tq) key index where row i's own segment starts, ≤ the row's position. */
  readonly segStart: Int32Array;
}

const segmentSupport = new WeakMap<NativeGemmAddon, boolean>();

/** The addon when it is active and takes segments (older builds do not), else null. */
function segmentAddon(): NativeGemmAddon | null {
  const addon = activeNativeAddon();
  if (!addon) return null;
  let ok = segmentSupport.get(addon);
  if (ok === undefined) {
    ok = addon.info().segments === true;
    segmentSupport.set(addon, ok);
  }
  return ok ? addon : null;
}

/**
 * Whether segmented attention runs at full speed: with the pure-JS backend, or a native build
 * that has it. A stale native build would send packed sequences through the slow loops.
 */
export function segmentedAttentionFast(): boolean {
  return activeNativeAddon() === null || segmentAddon() !== null;
}

/** Row t's hidden keys [lo, hi) (empty without segments). */
function gapOf(seg: AttentionSegments | null, t: number): [number, number] {
  if (!seg) return [0, 0];
  const s = seg.segStart[t];
  return [Math.min(seg.prefix, s), s];
}

/** Attention forward: writes `out` and `lse`. */
export function flashAttentionForward(
  out: Float32Array,
  lse: Float32Array,
  q: Float32Array,
  k: Float32Array,
  v: Float32Array,
  Tq: number,
  Tk: number,
  NH: number,
  NKV: number,
  HD: number,
  segments: AttentionSegments | null = null,
): void {
  const addon = segments ? segmentAddon() : activeNativeAddon();
  if (addon && segments) {
    const { segStart, prefix } = segments;
    addon.attnForward(q, k, v, out, lse, Tq, Tk, NH, NKV, HD, gemmThreads(), segStart, prefix);
  } else if (addon) {
    addon.attnForward(q, k, v, out, lse, Tq, Tk, NH, NKV, HD, gemmThreads());
  } else {
    attentionForwardLoops(out, lse, q, k, v, Tq, Tk, NH, NKV, HD, segments);
  }
}

/** Attention backward: accumulates into dq, dk, dv (see `attentionBackward` for the algebra). */
export function flashAttentionBackward(
  dq: Float32Array,
  dk: Float32Array,
  dv: Float32Array,
  dout: Float32Array,
  q: Float32Array,
  k: Float32Array,
  v: Float32Array,
  out: Float32Array,
  lse: Float32Array,
  Tq: number,
  Tk: number,
  NH: number,
  NKV: number,
  HD: number,
  segments: AttentionSegments | null = null,
): void {
  const addon = segments ? segmentAddon() : activeNativeAddon();
  const th = gemmThreads();
  if (addon && segments) {
    const { segStart, prefix } = segments;
    addon.attnBackward(
      q,
      k,
      v,
      out,
      lse,
      dout,
      dq,
      dk,
      dv,
      Tq,
      Tk,
      NH,
      NKV,
      HD,
      th,
      segStart,
      prefix,
    );
  } else if (addon) {
    addon.attnBackward(q, k, v, out, lse, dout, dq, dk, dv, Tq, Tk, NH, NKV, HD, th);
  } else {
    attentionBackwardLoops(dq, dk, dv, dout, q, k, v, out, lse, Tq, Tk, NH, NKV, HD, segments);
  }
}

/** The loop forward: per row, scores in float64, exact softmax, lse = max + log Σ e^(s − max). */
export function attentionForwardLoops(
  out: Floats,
  lse: Floats,
  q: Floats,
  k: Floats,
  v: Floats,
  Tq: number,
  Tk: number,
  NH: number,
  NKV: number,
  HD: number,
  segments: AttentionSegments | null = null,
): void {
  const group = NH / NKV;
  const scale = 1 / Math.sqrt(HD);
  const qStride = NH * HD;
  const kvStride = NKV * HD;
  const past = Tk - Tq;
  const s = new Float64Array(Tk);
  const o = new Float64Array(HD);
  for (let h = 0; h < NH; h++) {
    const kvOff = Math.floor(h / group) * HD;
    for (let t = 0; t < Tq; t++) {
      const qo = t * qStride + h * HD;
      const last = past + t;
      const [lo, hi] = gapOf(segments, t);
      let max = -Infinity;
      for (let u = 0; u <= last; u++) {
        if (u === lo) u = Math.max(u, hi);
        const ko = u * kvStride + kvOff;
        let d = 0;
        for (let i = 0; i < HD; i++) d += q[qo + i] * k[ko + i];
        s[u] = d * scale;
        if (s[u] > max) max = s[u];
      }
      let sum = 0;
      o.fill(0);
      for (let u = 0; u <= last; u++) {
        if (u === lo) u = Math.max(u, hi);
        const p = Math.exp(s[u] - max);
        sum += p;
        const vo = u * kvStride + kvOff;
        for (let i = 0; i < HD; i++) o[i] += p * v[vo + i];
      }
      for (let i = 0; i < HD; i++) out[qo + i] = o[i] / sum;
      lse[h * Tq + t] = max + Math.log(sum);
    }
  }
}

/** The loop backward, recomputing p_tu = e^(s_tu − lse_t); accumulates into dq, dk, dv. */
export function attentionBackwardLoops(
  dq: Floats,
  dk: Floats,
  dv: Floats,
  dout: Floats,
  q: Floats,
  k: Floats,
  v: Floats,
  out: Floats,
  lse: Floats,
  Tq: number,
  Tk: number,
  NH: number,
  NKV: number,
  HD: number,
  segments: AttentionSegments | null = null,
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
      const l = lse[h * Tq + t];
      // D_t = dout_t · out_t = Σ_u p_tu · (dout_t · v_u)
      let D = 0;
      for (let i = 0; i < HD; i++) D += dout[qo + i] * out[qo + i];
      const [lo, hi] = gapOf(segments, t);
      for (let u = 0; u <= past + t; u++) {
        if (u === lo) u = Math.max(u, hi);
        const ko = u * kvStride + kvOff;
        let s = 0;
        let dp = 0;
        for (let i = 0; i < HD; i++) {
          s += q[qo + i] * k[ko + i];
          dp += dout[qo + i] * v[ko + i];
        }
        const p = Math.exp(s * scale - l);
        const ds = p * (dp - D) * scale;
        for (let i = 0; i < HD; i++) {
          dv[ko + i] += p * dout[qo + i];
          dq[qo + i] += ds * k[ko + i];
          dk[ko + i] += ds * q[qo + i];
        }
      }
    }
  }
}
