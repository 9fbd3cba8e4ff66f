/**
 * Activation buffers for one sequence of up to `cap` tokens: everything the forward pass writes
 * that the backward pass reads, plus the backward's scratch. Allocated once for a capacity and
 * grown (never shrunk) when a longer sequence arrives; kernels index with the actual T, so a
 * shorter sequence uses the front of each buffer.
 *
 * An inference workspace (no backward will read it: prefill, forward-only logprobs) gives every
 * layer the same activation buffers except k and v (the sampler copies those into its caches),
 * and two residual buffers used in turn: an 8k-token prefill of a 30-layer model then needs
 * about 0.7 GB instead of 10 GB. The forward pass runs unchanged over either kind.
 *
 * Dimension letters: T tokens, C hidden, NH/NKV query/kv heads, HD head dim, QD = NH·HD,
 * KD = NKV·HD, F intermediate, V vocab, R rows of one LM-head chunk.
 */
import { EngineError } from '../core/errors.ts';
import type { Qwen3Config } from './config.ts';

/** Per-layer saved activations. */
export interface LayerActs {
  readonly ln1: Float32Array; // (T, C)   input_layernorm output
  readonly rstd1: Float32Array; // (T)
  readonly qRaw: Float32Array; // (T, QD) q_proj output before q_norm
  readonly kRaw: Float32Array; // (T, KD)
  readonly qNormed: Float32Array; // (T, QD) after q_norm, before RoPE
  readonly kNormed: Float32Array; // (T, KD)
  readonly rstdQ: Float32Array; // (T·NH)
  readonly rstdK: Float32Array; // (T·NKV)
  readonly q: Float32Array; // (T, QD) after RoPE: what attention reads
  readonly k: Float32Array; // (T, KD) after RoPE (also what a KV cache stores)
  readonly v: Float32Array; // (T, KD)
  readonly lse: Float32Array; // (NH, T) attention log-sum-exp per query row (flash backward)
  readonly attOut: Float32Array; // (T, QD)
  readonly ln2: Float32Array; // (T, C)   post_attention_layernorm output
  readonly rstd2: Float32Array; // (T)
  readonly gate: Float32Array; // (T, F)
  readonly up: Float32Array; // (T, F)
  readonly h: Float32Array; // (T, F)   silu(gate)·up
}

/** Backward scratch (reused by every layer). */
export interface BackwardScratch {
  readonly dres: Float32Array; // (T, C) gradient of the residual stream
  readonly dln: Float32Array; // (T, C)
  readonly dh: Float32Array; // (T, F)
  readonly dgate: Float32Array; // (T, F)
  readonly dup: Float32Array; // (T, F)
  readonly dattOut: Float32Array; // (T, QD)
  readonly dq: Float32Array; // (T, QD)
  readonly dk: Float32Array; // (T, KD)
  readonly dv: Float32Array; // (T, KD)
  readonly dqn: Float32Array; // (T, QD)
  readonly dkn: Float32Array; // (T, KD)
  readonly dqRaw: Float32Array; // (T, QD)
  readonly dkRaw: Float32Array; // (T, KD)
  readonly dxf: Float32Array; // (T, C)
  readonly dlogits: Float32Array; // (R, V)
  readonly dlogprobs: Float64Array; // (R)
}

/** All buffers for sequences of up to `cap` tokens. */
export interface Workspace {
  readonly cap: number;
  /** Layers share buffers: forward only (see the header). */
  readonly inference: boolean;
  /** resid[l] (T, C) is the input of layer l; resid[L] the input of the final norm. */
  readonly resid: readonly Float32Array[];
  /** x2[l] (T, C): the residual stream after layer l's attention block. */
  readonly x2: readonly Float32Array[];
  readonly layers: readonly LayerActs[];
  readonly xf: Float32Array; // (T, C) final norm output
  readonly rstdF: Float32Array; // (T)
  readonly chunkRows: number; // R
  readonly logits: Float32Array; // (R, V)
  readonly lse: Float64Array; // (R)
  readonly logprobs: Float64Array; // (R)
  backward: BackwardScratch | null;
}

/** LM-head chunk rows: keep one (R, V) logits block near 4M floats. */
export function chunkRowsFor(V: number): number {
  return Math.max(1, Math.min(64, Math.floor(4_194_304 / V)));
}

/**
 * Allocate forward buffers for up to `cap` tokens; `inference` shares them between layers (the
 * result must then never reach `backwardScratch`/`backwardSequence`).
 */
export function allocWorkspace(c: Qwen3Config, cap: number, inference = false): Workspace {
  const C = c.hiddenSize;
  const QD = c.numHeads * c.headDim;
  const KD = c.numKvHeads * c.headDim;
  const F = c.intermediateSize;
  const f = (n: number): Float32Array => new Float32Array(n);
  const layerActs = (): LayerActs => ({
    ln1: f(cap * C),
    rstd1: f(cap),
    qRaw: f(cap * QD),
    kRaw: f(cap * KD),
    qNormed: f(cap * QD),
    kNormed: f(cap * KD),
    rstdQ: f(cap * c.numHeads),
    rstdK: f(cap * c.numKvHeads),
    q: f(cap * QD),
    k: f(cap * KD),
    v: f(cap * KD),
    lse: f(c.numHeads * cap),
    attOut: f(cap * QD),
    ln2: f(cap * C),
    rstd2: f(cap),
    gate: f(cap * F),
    up: f(cap * F),
    h: f(cap * F),
  });
  const L = c.numLayers;
  let layers: LayerActs[];
  let resid: Float32Array[];
  let x2: Float32Array[];
  if (inference) {
    const shared = layerActs();
    layers = Array.from({ length: L }, () => ({ ...shared, k: f(cap * KD), v: f(cap * KD) }));
    // layer l reads resid[l] and writes resid[l + 1]: two buffers in turn suffice
    const pair = [f(cap * C), f(cap * C)];
    resid = Array.from({ length: L + 1 }, (_, l) => pair[l % 2]);
    const one = f(cap * C);
    x2 = Array.from({ length: L }, () => one);
  } else {
    layers = Array.from({ length: L }, layerActs);
    resid = Array.from({ length: L + 1 }, () => f(cap * C));
    x2 = Array.from({ length: L }, () => f(cap * C));
  }
  const R = chunkRowsFor(c.vocabSize);
  return {
    cap,
    inference,
    resid,
    x2,
    layers,
    xf: f(cap * C),
    rstdF: f(cap),
    chunkRows: R,
    logits: f(R * c.vocabSize),
    lse: new Float64Array(R),
    logprobs: new Float64Array(R),
    backward: null,
  };
}

/** Allocate (once per workspace) the backward scratch. */
export function backwardScratch(c: Qwen3Config, ws: Workspace): BackwardScratch {
  if (ws.inference) {
    throw new EngineError('backwardScratch: an inference workspace keeps no per-layer activations');
  }
  if (ws.backward) return ws.backward;
  const cap = ws.cap;
  const C = c.hiddenSize;
  const QD = c.numHeads * c.headDim;
  const KD = c.numKvHeads * c.headDim;
  const F = c.intermediateSize;
  const f = (n: number): Float32Array => new Float32Array(n);
  ws.backward = {
    dres: f(cap * C),
    dln: f(cap * C),
    dh: f(cap * F),
    dgate: f(cap * F),
    dup: f(cap * F),
    dattOut: f(cap * QD),
    dq: f(cap * QD),
    dk: f(cap * KD),
    dv: f(cap * KD),
    dqn: f(cap * QD),
    dkn: f(cap * KD),
    dqRaw: f(cap * QD),
    dkRaw: f(cap * KD),
    dxf: f(cap * C),
    dlogits: f(ws.chunkRows * c.vocabSize),
    dlogprobs: new Float64Array(ws.chunkRows),
  };
  return ws.backward;
}
