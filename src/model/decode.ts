/**
 * The batched decode step: one new position for every live sample of every request in flight,
 * with the projections run as (n, ·) matrix products over all n rows at once. Rows may belong to
 * different prompts, so each row carries its own position and its own KV cache.
 *
 * Bit-stability: every product goes through `gemmRows`, whose rows do not depend on how many
 * other rows share the call, and everything else (norms, RoPE, attention, SwiGLU) is computed
 * row by row. So a sample's logits — hence its tokens — are the same whether it decodes alone or
 * next to forty others.
 *
 * Cache layout, per sample and layer (chosen so attention is two plain gemms per KV head):
 *   k: (NKV, HD, L) — keys transposed: scores (group, L) = q (group, HD) · k_g (HD, L)
 *   v: (NKV, L, HD) — values by position: out (group, HD) = probs (group, Tk) · v_g (Tk, HD)
 * where L is the cache's current length (see SampleCache) and group = NH / NKV query heads share a
 * KV head. Score columns past the current length read zeros and are ignored by the softmax.
 */
import type { Qwen3Config } from './config.ts';
import { addInto } from './kernels/floats.ts';
import { biasForward } from './kernels/bias.ts';
import { embeddingForward } from './kernels/embedding.ts';
import { activeNativeAddon, gemmRows, gemmThreads } from './kernels/gemm.ts';
import { rmsnormForward } from './kernels/rmsnorm.ts';
import { ropeForward } from './kernels/rope.ts';
import { swigluForward } from './kernels/swiglu.ts';
import type { ModelViews } from './params.ts';

/**
 * One sample's KV cache: per layer, k (NKV, HD, L) and v (NKV, L, HD). It starts with room for
 * the prompt and a few generated tokens and grows (by half, up to `max`) as decoding reaches its
 * end, so a sample that stops early never holds the KV of its whole generation cap.
 */
export interface SampleCache {
  k: Float32Array[];
  v: Float32Array[];
  /** L: positions the cache holds now. */
  len: number;
  /** Positions it may grow to (prompt + generation cap). */
  readonly max: number;
}

/** One row of a decode step: a sample's cache, the token it just drew, and that token's position. */
export interface DecodeRow {
  readonly cache: SampleCache;
  readonly token: number;
  readonly pos: number;
}

/** Grow-only scratch for decode steps (reused across steps and requests). */
export interface DecodeScratch {
  rows: number;
  cacheLen: number;
  x: Float32Array; // (n, C) residual stream
  ln: Float32Array; // (n, C)
  rstd: Float32Array; // (n)
  qRaw: Float32Array; // (n, QD)
  kRaw: Float32Array; // (n, KD)
  qn: Float32Array; // (n, QD)
  kn: Float32Array; // (n, KD)
  rstdQ: Float32Array; // (n·NH)
  rstdK: Float32Array; // (n·NKV)
  v: Float32Array; // (n, KD)
  attOut: Float32Array; // (n, QD)
  tmp: Float32Array; // (n, C)
  gate: Float32Array; // (n, F)
  up: Float32Array; // (n, F)
  h: Float32Array; // (n, F)
  logits: Float32Array; // (n, V)
  scores: Float32Array; // (group, L)
  probs: Float32Array; // (group, L)
  tokens: Int32Array; // (n)
}

/** Empty scratch; `decodeRows` grows it on demand. */
export function emptyDecodeScratch(): DecodeScratch {
  const z = new Float32Array(0);
  return {
    rows: 0,
    cacheLen: 0,
    x: z,
    ln: z,
    rstd: z,
    qRaw: z,
    kRaw: z,
    qn: z,
    kn: z,
    rstdQ: z,
    rstdK: z,
    v: z,
    attOut: z,
    tmp: z,
    gate: z,
    up: z,
    h: z,
    logits: z,
    scores: z,
    probs: z,
    tokens: new Int32Array(0),
  };
}

function ensureScratch(c: Qwen3Config, s: DecodeScratch, n: number, cacheLen: number): void {
  const C = c.hiddenSize;
  const QD = c.numHeads * c.headDim;
  const KD = c.numKvHeads * c.headDim;
  const F = c.intermediateSize;
  const group = c.numHeads / c.numKvHeads;
  if (n > s.rows) {
    const rows = Math.max(n, s.rows * 2);
    const f = (k: number): Float32Array => new Float32Array(rows * k);
    s.rows = rows;
    s.x = f(C);
    s.ln = f(C);
    s.rstd = f(1);
    s.qRaw = f(QD);
    s.kRaw = f(KD);
    s.qn = f(QD);
    s.kn = f(KD);
    s.rstdQ = f(c.numHeads);
    s.rstdK = f(c.numKvHeads);
    s.v = f(KD);
    s.attOut = f(QD);
    s.tmp = f(C);
    s.gate = f(F);
    s.up = f(F);
    s.h = f(F);
    s.logits = f(c.vocabSize);
    s.tokens = new Int32Array(rows);
  }
  if (cacheLen > s.cacheLen) {
    s.cacheLen = cacheLen;
    s.scores = new Float32Array(group * cacheLen);
    s.probs = new Float32Array(group * cacheLen);
  }
}

/** A cache of `len` positions for one sample (zeros) that may grow to `max`. */
export function allocSampleCache(c: Qwen3Config, len: number, max = len): SampleCache {
  const KD = c.numKvHeads * c.headDim;
  const k: Float32Array[] = [];
  const v: Float32Array[] = [];
  for (let l = 0; l < c.numLayers; l++) {
    k.push(new Float32Array(KD * len));
    v.push(new Float32Array(KD * len));
  }
  return { k, v, len, max };
}

/** KV bytes one position of one sample's cache holds (float32 keys and values of every layer). */
export function kvBytesPerPosition(c: Qwen3Config): number {
  return c.numLayers * 2 * c.numKvHeads * c.headDim * 4;
}

/** The length `ensureCachePosition` gives a cache that must hold position `pos` (its own if it does). */
export function grownLength(cache: SampleCache, pos: number): number {
  if (pos < cache.len) return cache.len;
  return Math.min(cache.max, Math.max(pos + 1, Math.ceil(cache.len * 1.5)));
}

/**
 * Make room for position `pos` (grow by at least half, capped at `max`), copying what the cache
 * holds into the new layout. Positions past those written stay zero, as in a fresh cache.
 */
export function ensureCachePosition(c: Qwen3Config, cache: SampleCache, pos: number): void {
  if (pos < cache.len) return;
  if (pos >= cache.max) {
    throw new RangeError(`KV position ${pos} is past the cache's maximum ${cache.max}`);
  }
  const { numKvHeads: NKV, headDim: HD } = c;
  const L = cache.len;
  const L2 = grownLength(cache, pos);
  for (let l = 0; l < cache.k.length; l++) {
    const k = new Float32Array(NKV * HD * L2);
    const v = new Float32Array(NKV * HD * L2);
    const k0 = cache.k[l];
    const v0 = cache.v[l];
    for (let g = 0; g < NKV; g++) {
      // k: each (g, d) row of L positions moves to a row of L2; v: each g block of L·HD values.
      for (let d = 0; d < HD; d++) {
        const row = (g * HD + d) * L;
        k.set(k0.subarray(row, row + L), (g * HD + d) * L2);
      }
      v.set(v0.subarray(g * L * HD, (g + 1) * L * HD), g * L2 * HD);
    }
    cache.k[l] = k;
    cache.v[l] = v;
  }
  cache.len = L2;
}

/**
 * Write P positions of one layer's keys/values, as the training forward lays them out ((P, KD),
 * heads side by side), into a cache layer.
 */
export function fillCacheLayer(
  c: Qwen3Config,
  cache: SampleCache,
  l: number,
  kSrc: Float32Array,
  vSrc: Float32Array,
  P: number,
): void {
  const { numKvHeads: NKV, headDim: HD } = c;
  const KD = NKV * HD;
  const L = cache.len;
  const kc = cache.k[l];
  const vc = cache.v[l];
  for (let g = 0; g < NKV; g++) {
    const kBase = g * HD * L;
    const vBase = g * L * HD;
    for (let t = 0; t < P; t++) {
      const src = t * KD + g * HD;
      for (let d = 0; d < HD; d++) {
        kc[kBase + d * L + t] = kSrc[src + d];
        vc[vBase + t * HD + d] = vSrc[src + d];
      }
    }
  }
}

/**
 * Copy the first P positions of every layer of `from` into `to`; the two may have different
 * lengths. Keys are (KD rows, position) so each row is copied on its own; values are (KV head,
 * position, dim), one contiguous run per head.
 */
export function copyCachePrefix(
  c: Qwen3Config,
  from: SampleCache,
  to: SampleCache,
  P: number,
): void {
  const { numKvHeads: NKV, headDim: HD } = c;
  const Lf = from.len;
  const Lt = to.len;
  for (let l = 0; l < from.k.length; l++) {
    const kf = from.k[l];
    const kt = to.k[l];
    for (let row = 0; row < NKV * HD; row++) {
      kt.set(kf.subarray(row * Lf, row * Lf + P), row * Lt);
    }
    const vf = from.v[l];
    const vt = to.v[l];
    for (let g = 0; g < NKV; g++) {
      vt.set(vf.subarray(g * Lf * HD, g * Lf * HD + P * HD), g * Lt * HD);
    }
  }
}

/** Copy every layer of `from` into `to` (same length). */
export function copySampleCache(from: SampleCache, to: SampleCache): void {
  for (let l = 0; l < from.k.length; l++) {
    to.k[l].set(from.k[l]);
    to.v[l].set(from.v[l]);
  }
}

/**
 * Attention of one row at position `pos` over its cache positions 0..pos, all query heads.
 * out (QD) and q (QD) are that row's slices; the row's own k/v must already be in the cache.
 * Native kernel when the addon is active (its bits do not depend on other rows or threads
 * either), else two gemms per KV head.
 */
function attendRow(
  c: Qwen3Config,
  s: DecodeScratch,
  out: Float32Array,
  q: Float32Array,
  kc: Float32Array,
  vc: Float32Array,
  L: number,
  pos: number,
): void {
  const { numHeads: NH, numKvHeads: NKV, headDim: HD } = c;
  const group = NH / NKV;
  const Tk = pos + 1;
  const addon = activeNativeAddon();
  if (addon) {
    // native/attention.c: vectorised, split over fixed key chunks on the pool's threads
    addon.attnDecode(q, kc, vc, out, L, Tk, NH, NKV, HD, gemmThreads());
    return;
  }
  const scale = 1 / Math.sqrt(HD);
  for (let g = 0; g < NKV; g++) {
    const qg = q.subarray(g * group * HD, (g + 1) * group * HD);
    // scores (group, L) = q_g (group, HD) · k_g (HD, L); columns ≥ Tk are unused.
    gemmRows(
      false,
      false,
      group,
      L,
      HD,
      qg,
      kc.subarray(g * HD * L, (g + 1) * HD * L),
      s.scores,
      false,
    );
    for (let i = 0; i < group; i++) {
      const row = i * L;
      let max = -Infinity;
      for (let u = 0; u < Tk; u++) {
        const x = s.scores[row + u] * scale;
        if (x > max) max = x;
      }
      let sum = 0;
      const prow = i * Tk;
      for (let u = 0; u < Tk; u++) {
        const e = Math.exp(s.scores[row + u] * scale - max);
        s.probs[prow + u] = e;
        sum += e;
      }
      const inv = 1 / sum;
      for (let u = 0; u < Tk; u++) s.probs[prow + u] *= inv;
    }
    // out_g (group, HD) = probs (group, Tk) · v_g[0..Tk) (Tk, HD)
    gemmRows(
      false,
      false,
      group,
      HD,
      Tk,
      s.probs,
      vc.subarray(g * L * HD, g * L * HD + Tk * HD),
      out.subarray(g * group * HD, (g + 1) * group * HD),
      false,
    );
  }
}

/**
 * One decode step for `rows`: appends each row's key/value at its position to its cache and
 * leaves the next-token logits of row r in `s.logits` at (r, V).
 */
export function decodeRows(
  c: Qwen3Config,
  p: ModelViews,
  s: DecodeScratch,
  rows: readonly DecodeRow[],
  invFreq: Float64Array,
): void {
  const { hiddenSize: C, numHeads: NH, numKvHeads: NKV, headDim: HD, intermediateSize: F } = c;
  const QD = NH * HD;
  const KD = NKV * HD;
  const n = rows.length;
  const eps = c.rmsNormEps;
  let maxLen = 0;
  for (const r of rows) {
    ensureCachePosition(c, r.cache, r.pos);
    maxLen = Math.max(maxLen, r.cache.len);
  }
  ensureScratch(c, s, n, maxLen);
  for (let r = 0; r < n; r++) s.tokens[r] = rows[r].token;
  embeddingForward(s.x, s.tokens, p.embed, n, C);
  for (let l = 0; l < c.numLayers; l++) {
    const w = p.layers[l];
    rmsnormForward(s.ln, s.rstd, s.x, w.inputNorm, n, C, eps);
    gemmRows(false, true, n, QD, C, s.ln, w.wq, s.qRaw, false);
    gemmRows(false, true, n, KD, C, s.ln, w.wk, s.kRaw, false);
    gemmRows(false, true, n, KD, C, s.ln, w.wv, s.v, false);
    if (w.bq && w.bk && w.bv) {
      biasForward(s.qRaw, w.bq, n, QD);
      biasForward(s.kRaw, w.bk, n, KD);
      biasForward(s.v, w.bv, n, KD);
    }
    let qAll = s.qRaw;
    let kAll = s.kRaw;
    if (w.qNorm && w.kNorm) {
      rmsnormForward(s.qn, s.rstdQ, s.qRaw, w.qNorm, n * NH, HD, eps);
      rmsnormForward(s.kn, s.rstdK, s.kRaw, w.kNorm, n * NKV, HD, eps);
      qAll = s.qn;
      kAll = s.kn;
    }
    for (let r = 0; r < n; r++) {
      const { cache, pos } = rows[r];
      const q = qAll.subarray(r * QD, (r + 1) * QD);
      const k = kAll.subarray(r * KD, (r + 1) * KD);
      ropeForward(q, q, 1, NH, HD, pos, 0, invFreq);
      ropeForward(k, k, 1, NKV, HD, pos, 0, invFreq);
      const L = cache.len;
      const kc = cache.k[l];
      const vc = cache.v[l];
      for (let g = 0; g < NKV; g++) {
        for (let d = 0; d < HD; d++) {
          kc[g * HD * L + d * L + pos] = k[g * HD + d];
          vc[g * L * HD + pos * HD + d] = s.v[r * KD + g * HD + d];
        }
      }
      attendRow(c, s, s.attOut.subarray(r * QD, (r + 1) * QD), q, kc, vc, L, pos);
    }
    gemmRows(false, true, n, C, QD, s.attOut, w.wo, s.tmp, false);
    addInto(s.x, s.tmp, n * C);
    rmsnormForward(s.ln, s.rstd, s.x, w.postNorm, n, C, eps);
    gemmRows(false, true, n, F, C, s.ln, w.wGate, s.gate, false);
    gemmRows(false, true, n, F, C, s.ln, w.wUp, s.up, false);
    swigluForward(s.h, s.gate, s.up, n * F);
    gemmRows(false, true, n, C, F, s.h, w.wDown, s.tmp, false);
    addInto(s.x, s.tmp, n * C);
  }
  rmsnormForward(s.ln, s.rstd, s.x, p.finalNorm, n, C, eps);
  gemmRows(false, true, n, c.vocabSize, C, s.ln, p.lmHead, s.logits, false);
}
