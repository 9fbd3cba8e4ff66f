/**
 * The parameter layout: one ordered size table with HF tensor names, one contiguous Float32Array
 * for all parameters (and the same layout for gradients and Adam moments), and typed views into it.
 * With one buffer, AdamW is one loop, zeroing gradients is one fill, and a checkpoint is a walk
 * over the table. Random initialisation follows HF Qwen3 (normal(0, initializer_range) for
 * matrices, ones for norm weights, zeros for biases).
 */
import { Rng } from '../core/rng.ts';
import type { Qwen3Config } from './config.ts';

/** How a fresh model fills a tensor. */
export type ParamInit = 'ones' | 'zeros' | 'normal';

/** One named tensor of the table. `offset`/`size` are in floats. */
export interface ParamEntry {
  readonly name: string;
  readonly shape: readonly number[];
  readonly offset: number;
  readonly size: number;
  /** Norm weights start at 1, biases at 0; matrices are random. */
  readonly init: ParamInit;
}

/** The full layout of a model's parameters. */
export interface ParamTable {
  readonly entries: readonly ParamEntry[];
  readonly byName: ReadonlyMap<string, ParamEntry>;
  readonly totalSize: number;
}

/** Views into one layer's slice of a parameter (or gradient) buffer. */
export interface LayerViews {
  readonly inputNorm: Float32Array; // (C)
  readonly wq: Float32Array; // (NH*HD, C)  HF Linear layout: (out, in)
  readonly wk: Float32Array; // (NKV*HD, C)
  readonly wv: Float32Array; // (NKV*HD, C)
  readonly wo: Float32Array; // (C, NH*HD)
  /** (HD) each; null unless the family norms q/k heads (Qwen3). */
  readonly qNorm: Float32Array | null;
  readonly kNorm: Float32Array | null;
  /** (NH*HD), (NKV*HD), (NKV*HD); null unless the family has q/k/v biases (Qwen2). */
  readonly bq: Float32Array | null;
  readonly bk: Float32Array | null;
  readonly bv: Float32Array | null;
  readonly postNorm: Float32Array; // (C)
  readonly wGate: Float32Array; // (F, C)
  readonly wUp: Float32Array; // (F, C)
  readonly wDown: Float32Array; // (C, F)
}

/** Views into a whole parameter (or gradient) buffer. */
export interface ModelViews {
  readonly embed: Float32Array; // (V, C)
  readonly layers: readonly LayerViews[];
  readonly finalNorm: Float32Array; // (C)
  /** (V, C); the same view as `embed` when embeddings are tied. */
  readonly lmHead: Float32Array;
}

/** The ordered size table of a config (HF names, HF shapes). */
export function paramTable(c: Qwen3Config): ParamTable {
  const C = c.hiddenSize;
  const qDim = c.numHeads * c.headDim;
  const kvDim = c.numKvHeads * c.headDim;
  const F = c.intermediateSize;
  const entries: ParamEntry[] = [];
  let offset = 0;
  const add = (name: string, shape: number[], init: ParamInit): void => {
    const size = shape.reduce((a, b) => a * b, 1);
    entries.push({ name, shape, offset, size, init });
    offset += size;
  };
  add('model.embed_tokens.weight', [c.vocabSize, C], 'normal');
  for (let l = 0; l < c.numLayers; l++) {
    const p = `model.layers.${l}.`;
    add(`${p}input_layernorm.weight`, [C], 'ones');
    add(`${p}self_attn.q_proj.weight`, [qDim, C], 'normal');
    add(`${p}self_attn.k_proj.weight`, [kvDim, C], 'normal');
    add(`${p}self_attn.v_proj.weight`, [kvDim, C], 'normal');
    if (c.qkvBias) {
      add(`${p}self_attn.q_proj.bias`, [qDim], 'zeros');
      add(`${p}self_attn.k_proj.bias`, [kvDim], 'zeros');
      add(`${p}self_attn.v_proj.bias`, [kvDim], 'zeros');
    }
    add(`${p}self_attn.o_proj.weight`, [C, qDim], 'normal');
    if (c.qkNorm) {
      add(`${p}self_attn.q_norm.weight`, [c.headDim], 'ones');
      add(`${p}self_attn.k_norm.weight`, [c.headDim], 'ones');
    }
    add(`${p}post_attention_layernorm.weight`, [C], 'ones');
    add(`${p}mlp.gate_proj.weight`, [F, C], 'normal');
    add(`${p}mlp.up_proj.weight`, [F, C], 'normal');
    add(`${p}mlp.down_proj.weight`, [C, F], 'normal');
  }
  add('model.norm.weight', [C], 'ones');
  if (!c.tieWordEmbeddings) add('lm_head.weight', [c.vocabSize, C], 'normal');
  return { entries, byName: new Map(entries.map((e) => [e.name, e])), totalSize: offset };
}

/** Typed views (subarrays, no copies) of a buffer laid out by `table`. */
export function pointParams(c: Qwen3Config, table: ParamTable, buf: Float32Array): ModelViews {
  const view = (name: string): Float32Array => {
    const e = table.byName.get(name);
    if (!e) throw new Error(`internal: parameter ${name} missing from the table`);
    return buf.subarray(e.offset, e.offset + e.size);
  };
  const maybe = (name: string, present: boolean): Float32Array | null =>
    present ? view(name) : null;
  const layers: LayerViews[] = [];
  for (let l = 0; l < c.numLayers; l++) {
    const p = `model.layers.${l}.`;
    layers.push({
      inputNorm: view(`${p}input_layernorm.weight`),
      wq: view(`${p}self_attn.q_proj.weight`),
      wk: view(`${p}self_attn.k_proj.weight`),
      wv: view(`${p}self_attn.v_proj.weight`),
      wo: view(`${p}self_attn.o_proj.weight`),
      qNorm: maybe(`${p}self_attn.q_norm.weight`, c.qkNorm),
      kNorm: maybe(`${p}self_attn.k_norm.weight`, c.qkNorm),
      bq: maybe(`${p}self_attn.q_proj.bias`, c.qkvBias),
      bk: maybe(`${p}self_attn.k_proj.bias`, c.qkvBias),
      bv: maybe(`${p}self_attn.v_proj.bias`, c.qkvBias),
      postNorm: view(`${p}post_attention_layernorm.weight`),
      wGate: view(`${p}mlp.gate_proj.weight`),
      wUp: view(`${p}mlp.up_proj.weight`),
      wDown: view(`${p}mlp.down_proj.weight`),
    });
  }
  const embed = view('model.embed_tokens.weight');
  return {
    embed,
    layers,
    finalNorm: view('model.norm.weight'),
    lmHead: c.tieWordEmbeddings ? embed : view('lm_head.weight'),
  };
}

/**
 * Fill `buf` with a fresh random initialisation (deterministic in `seed`).
 * Output projections (o_proj, down_proj) are scaled by 1/sqrt(2·layers), GPT-2 style, so a deep
 * random model starts with a tame residual stream.
 */
export function initParams(
  c: Qwen3Config,
  table: ParamTable,
  buf: Float32Array,
  seed: number,
): void {
  const rng = Rng.derive(seed, 'qwen3-init');
  const residualScale = 1 / Math.sqrt(2 * c.numLayers);
  for (const e of table.entries) {
    const v = buf.subarray(e.offset, e.offset + e.size);
    if (e.init !== 'normal') {
      v.fill(e.init === 'ones' ? 1 : 0);
      continue;
    }
    const isResidualOut = e.name.endsWith('o_proj.weight') || e.name.endsWith('down_proj.weight');
    const std = c.initializerRange * (isResidualOut ? residualScale : 1);
    for (let i = 0; i < v.length; i++) v[i] = rng.normal() * std;
  }
}
