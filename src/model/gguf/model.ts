/**
 * A GGUF model as an HF model: `config.json` from the `<arch>.*` metadata, and llama.cpp's tensor
 * names mapped to HF's (`blk.3.attn_q.weight` → `model.layers.3.self_attn.q_proj.weight`). For the
 * llama architecture, llama.cpp's converter permutes the rows of q_proj and k_proj so that each
 * head's rotary pairs are interleaved (its non-NeoX RoPE); we undo that permutation so the weights
 * are HF's again. Qwen2/Qwen3 use NeoX RoPE in llama.cpp and are stored unpermuted.
 */
import { CheckpointError } from '../../core/errors.ts';
import type { ModelFamily } from '../config.ts';
import { ggufMeta, readGgufTensor } from './reader.ts';
import type { GgufFile, GgufTensorInfo } from './reader.ts';

const FAMILY_OF_ARCH: Readonly<Record<string, ModelFamily>> = {
  llama: 'llama',
  qwen2: 'qwen2',
  qwen3: 'qwen3',
};
const ARCH_NAME: Readonly<Record<ModelFamily, string>> = {
  llama: 'LlamaForCausalLM',
  qwen2: 'Qwen2ForCausalLM',
  qwen3: 'Qwen3ForCausalLM',
};

const LAYER_NAMES: Readonly<Record<string, string>> = {
  attn_norm: 'input_layernorm',
  attn_q: 'self_attn.q_proj',
  attn_k: 'self_attn.k_proj',
  attn_v: 'self_attn.v_proj',
  attn_output: 'self_attn.o_proj',
  attn_q_norm: 'self_attn.q_norm',
  attn_k_norm: 'self_attn.k_norm',
  ffn_norm: 'post_attention_layernorm',
  ffn_gate: 'mlp.gate_proj',
  ffn_up: 'mlp.up_proj',
  ffn_down: 'mlp.down_proj',
};
const GLOBAL_NAMES: Readonly<Record<string, string>> = {
  'token_embd.weight': 'model.embed_tokens.weight',
  'output_norm.weight': 'model.norm.weight',
  'output.weight': 'lm_head.weight',
};

/** The HF name of a llama.cpp tensor name, or undefined for tensors HF has no name for. */
export function hfTensorName(ggufName: string): string | undefined {
  const global = GLOBAL_NAMES[ggufName];
  if (global) return global;
  const m = /^blk\.(\d+)\.([a-z_]+)\.(weight|bias)$/.exec(ggufName);
  const part = m ? LAYER_NAMES[m[2]] : undefined;
  return m && part ? `model.layers.${m[1]}.${part}.${m[3]}` : undefined;
}

/** The family of a GGUF file's `general.architecture`. */
export function ggufFamily(g: GgufFile): ModelFamily {
  const arch = ggufMeta(g, 'general.architecture', 'string');
  const family = FAMILY_OF_ARCH[arch];
  if (!family) {
    throw new CheckpointError(
      `${g.file}: metadata "general.architecture" is "${arch}"; supported: ${Object.keys(FAMILY_OF_ARCH).join(', ')}`,
    );
  }
  return family;
}

/** HF `config.json` for a GGUF model (validated later by parseQwen3Config like any folder's). */
export function ggufHfConfig(g: GgufFile): Record<string, unknown> {
  const family = ggufFamily(g);
  const arch = ggufMeta(g, 'general.architecture', 'string');
  const num = (key: string): number => ggufMeta(g, `${arch}.${key}`, 'number');
  const opt = (key: string): number | undefined => {
    const v = g.metadata.get(`${arch}.${key}`);
    return typeof v === 'number' ? v : undefined;
  };
  const experts = opt('expert_count');
  if (experts !== undefined && experts > 0) {
    throw new CheckpointError(
      `${g.file}: metadata "${arch}.expert_count" is ${experts}: mixture-of-experts models are not supported`,
    );
  }
  if (g.tensors.some((t) => t.name === 'rope_freqs.weight')) {
    throw new CheckpointError(
      `${g.file}: tensor "rope_freqs.weight" (per-frequency RoPE factors, e.g. Llama 3.1 scaling) is not supported`,
    );
  }
  const scalingType = g.metadata.get(`${arch}.rope.scaling.type`);
  let ropeScaling: Record<string, unknown> | null = null;
  if (scalingType !== undefined && scalingType !== 'none') {
    if (scalingType !== 'linear') {
      throw new CheckpointError(
        `${g.file}: metadata "${arch}.rope.scaling.type" is ${JSON.stringify(scalingType)}; supported: none, linear`,
      );
    }
    ropeScaling = { rope_type: 'linear', factor: num('rope.scaling.factor') };
  }
  const embed = g.tensors.find((t) => t.name === 'token_embd.weight');
  if (!embed) throw new CheckpointError(`${g.file}: no tensor "token_embd.weight"`);
  const heads = num('attention.head_count');
  const hidden = num('embedding_length');
  const headDim = opt('attention.key_length') ?? hidden / heads;
  const eos = g.metadata.get('tokenizer.ggml.eos_token_id');
  const bos = g.metadata.get('tokenizer.ggml.bos_token_id');
  return {
    architectures: [ARCH_NAME[family]],
    model_type: family,
    hidden_size: hidden,
    num_hidden_layers: num('block_count'),
    num_attention_heads: heads,
    num_key_value_heads: opt('attention.head_count_kv') ?? heads,
    head_dim: headDim,
    intermediate_size: num('feed_forward_length'),
    vocab_size: embed.ne[1],
    rope_theta: opt('rope.freq_base') ?? 10_000,
    rms_norm_eps: num('attention.layer_norm_rms_epsilon'),
    max_position_embeddings: num('context_length'),
    tie_word_embeddings: !g.tensors.some((t) => t.name === 'output.weight'),
    torch_dtype: 'float32',
    hidden_act: 'silu',
    rope_scaling: ropeScaling,
    ...(typeof bos === 'number' ? { bos_token_id: bos } : {}),
    ...(typeof eos === 'number' ? { eos_token_id: eos } : {}),
  };
}

/**
 * Undo llama.cpp's q/k row permutation in place: GGUF row h·HD + 2i + j holds HF row
 * h·HD + j·HD/2 + i (j ∈ {0,1} picks the rotary half, i < HD/2), for `heads` heads of `cols`
 * columns each.
 */
export function unpermuteRows(w: Float32Array, heads: number, cols: number): Float32Array {
  const HD = w.length / cols / heads;
  const half = HD / 2;
  const out = new Float32Array(w.length);
  for (let h = 0; h < heads; h++) {
    for (let i = 0; i < half; i++) {
      for (let j = 0; j < 2; j++) {
        const src = (h * HD + 2 * i + j) * cols;
        const dst = (h * HD + j * half + i) * cols;
        out.set(w.subarray(src, src + cols), dst);
      }
    }
  }
  return out;
}

/** One tensor of a GGUF model under its HF name, dequantised to fp32 in HF layout. */
export interface HfTensor {
  readonly name: string;
  /** HF shape (out, in) for matrices: GGUF ne reversed. */
  readonly shape: readonly number[];
  readonly data: Float32Array;
}

/**
 * Dequantise one GGUF tensor into HF layout (q/k rows unpermuted for llama).
 * @throws CheckpointError for a tensor with no HF name
 */
export function ggufTensorToHf(
  g: GgufFile,
  t: GgufTensorInfo,
  config: Readonly<Record<string, unknown>>,
): HfTensor {
  const name = hfTensorName(t.name);
  if (!name) throw new CheckpointError(`${g.file}: tensor "${t.name}" has no HF counterpart`);
  let data = readGgufTensor(g, t);
  const shape = [...t.ne].reverse();
  if (config.model_type === 'llama' && /\.self_attn\.[qk]_proj\.weight$/.test(name)) {
    const heads = name.includes('q_proj')
      ? Number(config.num_attention_heads)
      : Number(config.num_key_value_heads);
    data = unpermuteRows(data, heads, t.ne[0]);
  }
  return { name, shape, data };
}
