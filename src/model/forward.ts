/**
 * The decoder over one sequence: forward (saving activations in a Workspace), the chunked
 * LM head fused with a per-token loss, and the backward pass accumulating into a gradient buffer
 * with the parameter layout. Per layer:
 *   ln1 = rmsnorm(x); q,k,v = ln1·Wᵀ (+ b, Qwen2); q,k = rope(headnorm(q,k)) (the head norm only
 *   for Qwen3); a = attention(q,k,v)
 *   x2 = x + a·Woᵀ; ln2 = rmsnorm(x2); x' = x2 + (silu(ln2·Wgᵀ) · ln2·Wuᵀ)·Wdᵀ
 * then xf = rmsnorm(x_L), logits = xf·Eᵀ. Synchronous, no I/O.
 * With a LoraRun, each adapted projection adds its adapter term (kernels/lora.ts) and, with a null
 * gradient buffer, the base stays frozen: no base weight gradient is computed at all.
 * With a PackedLayout the sequence is a shared prefix followed by several continuations of it
 * (shared-prefix.ts): only RoPE (per-token positions) and attention (segments) change; every
 * other op is per token.
 */
import type { Qwen3Config } from './config.ts';
import type { ModelViews } from './params.ts';
import type { BackwardScratch, Workspace } from './workspace.ts';
import { biasBackward, biasForward } from './kernels/bias.ts';
import { embeddingBackward, embeddingForward } from './kernels/embedding.ts';
import { flashAttentionBackward, flashAttentionForward } from './kernels/flash-attention.ts';
import { addInto } from './kernels/floats.ts';
import { gemm } from './kernels/gemm.ts';
import { linearBackward, linearForward } from './kernels/linear.ts';
import { loraBackward, loraForward } from './kernels/lora.ts';
import type { LoraField, LoraRun } from './lora.ts';
import type { PackedLayout } from './shared-prefix.ts';
import { tokenLogprobBackwardInPlace, tokenLogprobForward } from './kernels/logprobs.ts';
import { rmsnormBackward, rmsnormForward } from './kernels/rmsnorm.ts';
import { ropeBackward, ropeForward } from './kernels/rope.ts';
import { swigluBackward, swigluForward } from './kernels/swiglu.ts';

/** Run the decoder over `tokens` (length T ≤ ws.cap) up to the final norm output `ws.xf`. */
export function forwardSequence(
  c: Qwen3Config,
  p: ModelViews,
  ws: Workspace,
  tokens: ArrayLike<number>,
  T: number,
  invFreq: Float64Array,
  lora: LoraRun | null = null,
  layout: PackedLayout | null = null,
): void {
  const { hiddenSize: C, numHeads: NH, numKvHeads: NKV, headDim: HD, intermediateSize: F } = c;
  const QD = NH * HD;
  const KD = NKV * HD;
  const eps = c.rmsNormEps;
  const positions = layout?.positions ?? null;
  const segments = layout?.segments ?? null;
  // The adapter term of projection `f` of layer l, when it has one.
  const adapt = (
    l: number,
    f: LoraField,
    out: Float32Array,
    inp: Float32Array,
    I: number,
    O: number,
  ): void => {
    const ad = lora?.params[l][f];
    const us = lora?.acts[l][f];
    if (lora && ad && us) loraForward(out, us, inp, ad.A, ad.B, T, I, O, lora.rank, lora.scale);
  };
  embeddingForward(ws.resid[0], tokens, p.embed, T, C);
  for (let l = 0; l < c.numLayers; l++) {
    const w = p.layers[l];
    const a = ws.layers[l];
    const x = ws.resid[l];
    const x2 = ws.x2[l];
    const out = ws.resid[l + 1];
    rmsnormForward(a.ln1, a.rstd1, x, w.inputNorm, T, C, eps);
    linearForward(a.qRaw, a.ln1, w.wq, T, C, QD);
    linearForward(a.kRaw, a.ln1, w.wk, T, C, KD);
    linearForward(a.v, a.ln1, w.wv, T, C, KD);
    adapt(l, 'wq', a.qRaw, a.ln1, C, QD);
    adapt(l, 'wk', a.kRaw, a.ln1, C, KD);
    adapt(l, 'wv', a.v, a.ln1, C, KD);
    if (w.bq && w.bk && w.bv) {
      biasForward(a.qRaw, w.bq, T, QD);
      biasForward(a.kRaw, w.bk, T, KD);
      biasForward(a.v, w.bv, T, KD);
    }
    let qIn = a.qRaw;
    let kIn = a.kRaw;
    if (w.qNorm && w.kNorm) {
      rmsnormForward(a.qNormed, a.rstdQ, a.qRaw, w.qNorm, T * NH, HD, eps);
      rmsnormForward(a.kNormed, a.rstdK, a.kRaw, w.kNorm, T * NKV, HD, eps);
      qIn = a.qNormed;
      kIn = a.kNormed;
    }
    ropeForward(a.q, qIn, T, NH, HD, 0, 1, invFreq, positions);
    ropeForward(a.k, kIn, T, NKV, HD, 0, 1, invFreq, positions);
    flashAttentionForward(a.attOut, a.lse, a.q, a.k, a.v, T, T, NH, NKV, HD, segments);
    linearForward(x2, a.attOut, w.wo, T, QD, C);
    adapt(l, 'wo', x2, a.attOut, QD, C);
    addInto(x2, x, T * C);
    rmsnormForward(a.ln2, a.rstd2, x2, w.postNorm, T, C, eps);
    linearForward(a.gate, a.ln2, w.wGate, T, C, F);
    linearForward(a.up, a.ln2, w.wUp, T, C, F);
    adapt(l, 'wGate', a.gate, a.ln2, C, F);
    adapt(l, 'wUp', a.up, a.ln2, C, F);
    swigluForward(a.h, a.gate, a.up, T * F);
    linearForward(out, a.h, w.wDown, T, F, C);
    adapt(l, 'wDown', out, a.h, F, C);
    addInto(out, x2, T * C);
  }
  rmsnormForward(ws.xf, ws.rstdF, ws.resid[c.numLayers], p.finalNorm, T, C, eps);
}

/**
 * Given d(loss)/d(logprob) of row t from its logprob; called once per row in order.
 * Return 0 for rows that carry no loss.
 */
export type RowLoss = (t: number, logprob: number) => number;

/**
 * The LM head in chunks of R rows: logits = xf·Eᵀ / temperature, the target logprob of each row
 * (of the tempered distribution), and — when `scratch` is given — the backward of the per-row
 * loss into `scratch.dxf` (overwritten) and, when `grads` is given too, the LM-head gradient
 * (accumulated). Never holds more than one (R, V) logits block.
 */
export function lmHeadPass(
  c: Qwen3Config,
  p: ModelViews,
  grads: ModelViews | null,
  ws: Workspace,
  scratch: BackwardScratch | null,
  targets: ArrayLike<number>,
  T: number,
  temperature: number,
  rowLoss: RowLoss,
): void {
  const C = c.hiddenSize;
  const V = c.vocabSize;
  const R = ws.chunkRows;
  const invT = 1 / temperature;
  if (scratch) scratch.dxf.fill(0, 0, T * C);
  for (let r0 = 0; r0 < T; r0 += R) {
    const rows = Math.min(R, T - r0);
    const xfChunk = ws.xf.subarray(r0 * C, (r0 + rows) * C);
    gemm(false, true, rows, V, C, xfChunk, p.lmHead, ws.logits, false);
    if (invT !== 1) scaleInPlace(ws.logits, rows * V, invT);
    const tg = targetsSlice(targets, r0, rows);
    const dlogits = scratch ? scratch.dlogits.subarray(0, rows * V) : null;
    // When training, the softmax lands in dlogits and is turned into the gradient in place.
    tokenLogprobForward(ws.logprobs, ws.lse, ws.logits, tg, rows, V, dlogits);
    let any = false;
    for (let r = 0; r < rows; r++) {
      const d = rowLoss(r0 + r, ws.logprobs[r]);
      if (scratch) scratch.dlogprobs[r] = d;
      if (d !== 0) any = true;
    }
    if (!scratch || !dlogits || !any) continue;
    tokenLogprobBackwardInPlace(dlogits, scratch.dlogprobs, tg, rows, V);
    // The gradient reached the tempered logits z/T; the chain rule through the division is 1/T.
    if (invT !== 1) scaleInPlace(dlogits, rows * V, invT);
    // Inverts logits = xf·Eᵀ: dxf += dlogits·E, dE += dlogitsᵀ·xf.
    gemm(false, false, rows, C, V, dlogits, p.lmHead, scratch.dxf.subarray(r0 * C), true);
    if (grads) gemm(true, false, V, C, rows, dlogits, xfChunk, grads.lmHead, true);
  }
}

function scaleInPlace(x: Float32Array, n: number, k: number): void {
  for (let i = 0; i < n; i++) x[i] *= k;
}

function targetsSlice(targets: ArrayLike<number>, r0: number, rows: number): Int32Array {
  const out = new Int32Array(rows);
  for (let r = 0; r < rows; r++) out[r] = targets[r0 + r];
  return out;
}

/**
 * Backward through the decoder from `scratch.dxf` (set by `lmHeadPass`) to every parameter.
 * Requires the activations of the `forwardSequence` call on the same tokens (and the same
 * LoraRun and layout). Accumulates into `g` (null: base frozen) and the LoraRun's gradients; scratch
 * buffers are overwritten.
 */
export function backwardSequence(
  c: Qwen3Config,
  p: ModelViews,
  g: ModelViews | null,
  ws: Workspace,
  s: BackwardScratch,
  tokens: ArrayLike<number>,
  T: number,
  invFreq: Float64Array,
  lora: LoraRun | null = null,
  layout: PackedLayout | null = null,
): void {
  const { hiddenSize: C, numHeads: NH, numKvHeads: NKV, headDim: HD, intermediateSize: F } = c;
  const QD = NH * HD;
  const KD = NKV * HD;
  const L = c.numLayers;
  const positions = layout?.positions ?? null;
  const dres = s.dres;
  // The adapter backward of projection `f` of layer l, when it has one.
  const adapt = (
    l: number,
    f: LoraField,
    dinp: Float32Array,
    dout: Float32Array,
    inp: Float32Array,
    I: number,
    O: number,
  ): void => {
    const ad = lora?.params[l][f];
    const gd = lora?.grads?.[l][f];
    const us = lora?.acts[l][f];
    if (!lora || !ad || !gd || !us) return;
    const [r, sc] = [lora.rank, lora.scale];
    loraBackward(dinp, gd.A, gd.B, lora.t, dout, inp, us, ad.A, ad.B, T, I, O, r, sc);
  };
  // Inverts xf = rmsnorm(x_L).
  dres.fill(0, 0, T * C);
  rmsnormBackward(dres, g?.finalNorm ?? null, s.dxf, ws.resid[L], p.finalNorm, ws.rstdF, T, C);
  for (let l = L - 1; l >= 0; l--) {
    const w = p.layers[l];
    const gw = g?.layers[l] ?? null;
    const a = ws.layers[l];
    const x = ws.resid[l];
    const x2 = ws.x2[l];
    // out = x2 + h·Wdᵀ: dres already holds d(out) = d(x2) through the residual.
    s.dh.fill(0, 0, T * F);
    linearBackward(s.dh, gw?.wDown ?? null, dres, a.h, w.wDown, T, F, C);
    adapt(l, 'wDown', s.dh, dres, a.h, F, C);
    s.dgate.fill(0, 0, T * F);
    s.dup.fill(0, 0, T * F);
    swigluBackward(s.dgate, s.dup, s.dh, a.gate, a.up, T * F);
    s.dln.fill(0, 0, T * C);
    linearBackward(s.dln, gw?.wGate ?? null, s.dgate, a.ln2, w.wGate, T, C, F);
    linearBackward(s.dln, gw?.wUp ?? null, s.dup, a.ln2, w.wUp, T, C, F);
    adapt(l, 'wGate', s.dln, s.dgate, a.ln2, C, F);
    adapt(l, 'wUp', s.dln, s.dup, a.ln2, C, F);
    rmsnormBackward(dres, gw?.postNorm ?? null, s.dln, x2, w.postNorm, a.rstd2, T, C);
    // x2 = x + attOut·Woᵀ: dres now holds d(x2) = d(x) through the residual.
    s.dattOut.fill(0, 0, T * QD);
    linearBackward(s.dattOut, gw?.wo ?? null, dres, a.attOut, w.wo, T, QD, C);
    adapt(l, 'wo', s.dattOut, dres, a.attOut, QD, C);
    s.dq.fill(0, 0, T * QD);
    s.dk.fill(0, 0, T * KD);
    s.dv.fill(0, 0, T * KD);
    flashAttentionBackward(
      s.dq,
      s.dk,
      s.dv,
      s.dattOut,
      a.q,
      a.k,
      a.v,
      a.attOut,
      a.lse,
      T,
      T,
      NH,
      NKV,
      HD,
      layout?.segments ?? null,
    );
    s.dqn.fill(0, 0, T * QD);
    s.dkn.fill(0, 0, T * KD);
    ropeBackward(s.dqn, s.dq, T, NH, HD, 0, 1, invFreq, positions);
    ropeBackward(s.dkn, s.dk, T, NKV, HD, 0, 1, invFreq, positions);
    // Without the head norm, rope read qRaw/kRaw directly, so dqn/dkn are their gradients.
    let dqRaw = s.dqn;
    let dkRaw = s.dkn;
    if (w.qNorm && w.kNorm) {
      s.dqRaw.fill(0, 0, T * QD);
      s.dkRaw.fill(0, 0, T * KD);
      rmsnormBackward(s.dqRaw, gw?.qNorm ?? null, s.dqn, a.qRaw, w.qNorm, a.rstdQ, T * NH, HD);
      rmsnormBackward(s.dkRaw, gw?.kNorm ?? null, s.dkn, a.kRaw, w.kNorm, a.rstdK, T * NKV, HD);
      dqRaw = s.dqRaw;
      dkRaw = s.dkRaw;
    }
    if (gw?.bq && gw.bk && gw.bv) {
      biasBackward(gw.bq, dqRaw, T, QD);
      biasBackward(gw.bk, dkRaw, T, KD);
      biasBackward(gw.bv, s.dv, T, KD);
    }
    s.dln.fill(0, 0, T * C);
    linearBackward(s.dln, gw?.wq ?? null, dqRaw, a.ln1, w.wq, T, C, QD);
    linearBackward(s.dln, gw?.wk ?? null, dkRaw, a.ln1, w.wk, T, C, KD);
    linearBackward(s.dln, gw?.wv ?? null, s.dv, a.ln1, w.wv, T, C, KD);
    adapt(l, 'wq', s.dln, dqRaw, a.ln1, C, QD);
    adapt(l, 'wk', s.dln, dkRaw, a.ln1, C, KD);
    adapt(l, 'wv', s.dln, s.dv, a.ln1, C, KD);
    rmsnormBackward(dres, gw?.inputNorm ?? null, s.dln, x, w.inputNorm, a.rstd1, T, C);
  }
  if (g) embeddingBackward(g.embed, dres, tokens, T, C);
}
