/**
 * LoRA adapters for the embedded decoder: which linear layers carry one, the parameter layout of
 * all adapters (one contiguous buffer, peft's tensor names, same layout for gradients and Adam
 * moments — the base weights stay frozen), peft's initialisation (A kaiming-uniform with
 * a = √5, i.e. U(−1/√in, 1/√in); B zero, so a fresh adapter changes nothing), the saved
 * activations of the adapter forward, and merging adapters into (a copy of) the base weights.
 */
import { EngineError } from '../core/errors.ts';
import { Rng } from '../core/rng.ts';
import type { Qwen3Config } from './config.ts';
import { loraMergeInto } from './kernels/lora.ts';
import type { ModelViews } from './params.ts';

/** The linear layers an adapter may sit on (HF module names). */
export const LORA_TARGETS = [
  'q_proj',
  'k_proj',
  'v_proj',
  'o_proj',
  'gate_proj',
  'up_proj',
  'down_proj',
] as const;
export type LoraTarget = (typeof LORA_TARGETS)[number];

/** The LayerViews fields an adapter may sit on (the projection weights). */
export type LoraField = 'wq' | 'wk' | 'wv' | 'wo' | 'wGate' | 'wUp' | 'wDown';

/** Which LayerViews field each target adapts, and its module path under a layer. */
const TARGET_INFO: Record<LoraTarget, { field: LoraField; path: string }> = {
  q_proj: { field: 'wq', path: 'self_attn.q_proj' },
  k_proj: { field: 'wk', path: 'self_attn.k_proj' },
  v_proj: { field: 'wv', path: 'self_attn.v_proj' },
  o_proj: { field: 'wo', path: 'self_attn.o_proj' },
  gate_proj: { field: 'wGate', path: 'mlp.gate_proj' },
  up_proj: { field: 'wUp', path: 'mlp.up_proj' },
  down_proj: { field: 'wDown', path: 'mlp.down_proj' },
};

/** An adapter configuration (dropout is always 0). */
export interface LoraConfig {
  readonly rank: number;
  readonly alpha: number;
  readonly targets: readonly LoraTarget[];
  /** Seed of the A initialisation. */
  readonly seed: number;
}

/** Default alpha: Tinker and SkyRL tx fix it at 32 whatever the rank. */
export const DEFAULT_LORA_ALPHA = 32;

/**
 * A complete LoraConfig from partial input (default: every attention and MLP linear, as Tinker).
 * @throws EngineError naming the bad field
 */
export function loraConfig(p: {
  rank: number;
  alpha?: number;
  targets?: readonly string[];
  seed?: number;
}): LoraConfig {
  if (!Number.isInteger(p.rank) || p.rank < 1) {
    throw new EngineError(`lora rank ${p.rank} is invalid: expected an integer ≥ 1`);
  }
  const alpha = p.alpha ?? DEFAULT_LORA_ALPHA;
  if (!(alpha > 0) || !Number.isFinite(alpha)) {
    throw new EngineError(`lora alpha ${alpha} is invalid: expected a finite number > 0`);
  }
  const targets = p.targets && p.targets.length > 0 ? p.targets : LORA_TARGETS;
  for (const t of targets) {
    if (!(LORA_TARGETS as readonly string[]).includes(t)) {
      throw new EngineError(
        `lora target "${t}" is unknown: expected some of ${LORA_TARGETS.join(', ')}`,
      );
    }
  }
  // Keep the canonical order so two spellings of the same set compare equal.
  const set = LORA_TARGETS.filter((t) => targets.includes(t));
  return { rank: p.rank, alpha, targets: set, seed: p.seed ?? 0 };
}

/** s = alpha / r, the scale of the adapter term. */
export function loraScale(c: LoraConfig): number {
  return c.alpha / c.rank;
}

/** One adapter: A (r, in) and B (out, r) at float offsets of the adapter buffer. */
export interface LoraEntry {
  readonly layer: number;
  readonly target: LoraTarget;
  readonly field: LoraField;
  /** peft module path without the `base_model.model.` prefix, e.g. model.layers.0.self_attn.q_proj */
  readonly module: string;
  readonly inDim: number;
  readonly outDim: number;
  readonly offsetA: number;
  readonly offsetB: number;
}

/** The layout of every adapter of a model. */
export interface LoraTable {
  readonly config: LoraConfig;
  readonly entries: readonly LoraEntry[];
  readonly totalSize: number;
}

/** In/out dims of a target in a model config. */
function targetDims(c: Qwen3Config, t: LoraTarget): [number, number] {
  const C = c.hiddenSize;
  const QD = c.numHeads * c.headDim;
  const KD = c.numKvHeads * c.headDim;
  const F = c.intermediateSize;
  switch (t) {
    case 'q_proj':
      return [C, QD];
    case 'k_proj':
    case 'v_proj':
      return [C, KD];
    case 'o_proj':
      return [QD, C];
    case 'gate_proj':
    case 'up_proj':
      return [C, F];
    case 'down_proj':
      return [F, C];
  }
}

/** The adapter layout of a model config (layer-major, targets in canonical order). */
export function loraTable(c: Qwen3Config, lc: LoraConfig): LoraTable {
  const entries: LoraEntry[] = [];
  let offset = 0;
  const r = lc.rank;
  for (let l = 0; l < c.numLayers; l++) {
    for (const target of lc.targets) {
      const [inDim, outDim] = targetDims(c, target);
      const info = TARGET_INFO[target];
      entries.push({
        layer: l,
        target,
        field: info.field,
        module: `model.layers.${l}.${info.path}`,
        inDim,
        outDim,
        offsetA: offset,
        offsetB: offset + r * inDim,
      });
      offset += r * inDim + outDim * r;
    }
  }
  return { config: lc, entries, totalSize: offset };
}

/** An adapter's A and B as views into a buffer laid out by its table. */
export interface LoraPair {
  readonly A: Float32Array; // (r, in)
  readonly B: Float32Array; // (out, r)
}

/** Per layer, the adapter of each adapted field (absent fields have none). */
export type LoraLayerViews = Partial<Record<LoraField, LoraPair>>;

/** Views of every adapter in `buf` (parameters, gradients or moments). */
export function pointLora(t: LoraTable, numLayers: number, buf: Float32Array): LoraLayerViews[] {
  const r = t.config.rank;
  const layers: Record<string, LoraPair>[] = Array.from({ length: numLayers }, () => ({}));
  for (const e of t.entries) {
    layers[e.layer][e.field] = {
      A: buf.subarray(e.offsetA, e.offsetA + r * e.inDim),
      B: buf.subarray(e.offsetB, e.offsetB + e.outDim * r),
    };
  }
  return layers;
}

/** peft's initialisation: A ~ U(−1/√in, 1/√in) (deterministic in the config's seed), B = 0. */
export function initLora(t: LoraTable, buf: Float32Array): void {
  const rng = Rng.derive(t.config.seed, 'lora-init');
  buf.fill(0);
  const r = t.config.rank;
  for (const e of t.entries) {
    const bound = 1 / Math.sqrt(e.inDim);
    const A = buf.subarray(e.offsetA, e.offsetA + r * e.inDim);
    for (let i = 0; i < A.length; i++) A[i] = (2 * rng.next() - 1) * bound;
  }
}

/** peft's tensor names of an entry (in adapter_model.safetensors). */
export function peftNames(e: LoraEntry): { A: string; B: string } {
  return {
    A: `base_model.model.${e.module}.lora_A.weight`,
    B: `base_model.model.${e.module}.lora_B.weight`,
  };
}

/**
 * Views of the base weights with every adapter merged in: adapted matrices are copies (one buffer
 * for all of them, reused by `into` when given), everything else is the base's own view.
 */
export function mergedViews(
  base: ModelViews,
  t: LoraTable,
  adapters: Float32Array,
  into?: Float32Array,
): { views: ModelViews; buffer: Float32Array } {
  let size = 0;
  for (const e of t.entries) size += e.inDim * e.outDim;
  const buffer = into && into.length === size ? into : new Float32Array(size);
  const r = t.config.rank;
  const s = loraScale(t.config);
  const layers = base.layers.map((l) => ({ ...l }));
  let off = 0;
  for (const e of t.entries) {
    const W = buffer.subarray(off, off + e.inDim * e.outDim);
    off += e.inDim * e.outDim;
    W.set(base.layers[e.layer][e.field]);
    const A = adapters.subarray(e.offsetA, e.offsetA + r * e.inDim);
    const B = adapters.subarray(e.offsetB, e.offsetB + e.outDim * r);
    loraMergeInto(W, A, B, e.inDim, e.outDim, r, s);
    (layers[e.layer] as Record<LoraField, Float32Array>)[e.field] = W;
  }
  return { views: { ...base, layers }, buffer };
}

/**
 * What the decoder needs to run with adapters: their parameters, gradients (training only) and
 * the saved forward activations us = s · inp · Aᵀ, (T, r) per adapter, for up to `cap` tokens.
 */
export interface LoraRun {
  readonly rank: number;
  readonly scale: number;
  readonly params: readonly LoraLayerViews[];
  readonly grads: readonly LoraLayerViews[] | null;
  readonly acts: readonly Partial<Record<LoraField, Float32Array>>[];
  /** Backward scratch (cap·r). */
  readonly t: Float32Array;
  readonly cap: number;
}

/** Allocate the activations of a LoraRun for sequences of up to `cap` tokens. */
export function loraRun(
  t: LoraTable,
  params: readonly LoraLayerViews[],
  grads: readonly LoraLayerViews[] | null,
  cap: number,
): LoraRun {
  const r = t.config.rank;
  const acts: Partial<Record<LoraField, Float32Array>>[] = params.map(() => ({}));
  for (const e of t.entries) acts[e.layer][e.field] = new Float32Array(cap * r);
  return {
    rank: r,
    scale: loraScale(t.config),
    params,
    grads,
    acts,
    t: new Float32Array(cap * r),
    cap,
  };
}
