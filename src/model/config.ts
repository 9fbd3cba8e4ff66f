/**
 * The decoder configuration: an HF-style `config.json` parsed and validated with zod, reduced to
 * the numbers the embedded engine needs. One decoder serves three HF families, which differ only
 * in config fields:
 *   - qwen3 (Qwen3ForCausalLM): RMSNorm on each q/k head before RoPE;
 *   - qwen2 (Qwen2ForCausalLM, also Qwen2.5): bias on q/k/v projections, no q/k norm;
 *   - llama (LlamaForCausalLM, SmolLM2, Llama 3.x): neither, optionally `llama3` RoPE scaling.
 * Unknown HF keys are allowed (real checkpoints carry many) but every key that would change the
 * computation is either implemented or refused with an error naming it (sliding window, MoE,
 * biases we do not model, other RoPE scalings), so a model is never silently wrong.
 * It does not read files; see `loadModelConfig` in model-folder.ts for that.
 */
import { z } from 'zod';
import { ConfigurationError } from '../core/errors.ts';

const positiveInt = z.number().int().positive();

const rawConfigSchema = z
  .object({
    architectures: z.array(z.string()).optional(),
    model_type: z.string().optional(),
    hidden_size: positiveInt,
    num_hidden_layers: positiveInt,
    num_attention_heads: positiveInt,
    num_key_value_heads: positiveInt.optional(),
    head_dim: positiveInt.optional(),
    intermediate_size: positiveInt,
    vocab_size: positiveInt,
    rope_theta: z.number().positive().default(1_000_000),
    rms_norm_eps: z.number().positive().default(1e-6),
    max_position_embeddings: positiveInt.default(40_960),
    tie_word_embeddings: z.boolean().default(false),
    torch_dtype: z.string().optional(),
    bos_token_id: z.number().int().nonnegative().nullable().optional(),
    eos_token_id: z
      .union([z.number().int().nonnegative(), z.array(z.number().int().nonnegative())])
      .nullable()
      .optional(),
    attention_bias: z.boolean().optional(),
    hidden_act: z.string().optional(),
    rope_scaling: z.unknown().optional(),
    initializer_range: z.number().positive().optional(),
    mlp_bias: z.boolean().optional(),
    use_sliding_window: z.boolean().optional(),
    partial_rotary_factor: z.number().optional(),
    layer_types: z.array(z.string()).optional(),
  })
  .loose();

/** The supported families, by HF architecture name. */
const ARCHITECTURES: Readonly<Record<string, ModelFamily>> = {
  Qwen3ForCausalLM: 'qwen3',
  Qwen2ForCausalLM: 'qwen2',
  LlamaForCausalLM: 'llama',
};

/** HF keys that only mixture-of-experts configs carry (non-zero means experts). */
const MOE_FIELDS = [
  'num_experts',
  'num_local_experts',
  'n_routed_experts',
  'moe_intermediate_size',
];

const ropeScalingSchema = z
  .object({
    rope_type: z.string().optional(),
    type: z.string().optional(),
    factor: z.number().positive().optional(),
    low_freq_factor: z.number().positive().optional(),
    high_freq_factor: z.number().positive().optional(),
    original_max_position_embeddings: positiveInt.optional(),
  })
  .loose();

/** The decoder variant; everything else about it is the config's numbers. */
export type ModelFamily = 'qwen3' | 'qwen2' | 'llama';

/**
 * RoPE frequency scaling (HF `rope_scaling`): `linear` divides every frequency by `factor`;
 * `llama3` divides low frequencies by `factor` and interpolates the middle band.
 */
export type RopeScaling =
  | { readonly type: 'linear'; readonly factor: number }
  | {
      readonly type: 'llama3';
      readonly factor: number;
      readonly lowFreqFactor: number;
      readonly highFreqFactor: number;
      readonly originalMaxPositions: number;
    };

/** The validated configuration, with HF defaults resolved (camelCase, immutable). */
export interface ModelConfig {
  readonly family: ModelFamily;
  /** RMSNorm over each q and k head before RoPE (Qwen3). */
  readonly qkNorm: boolean;
  /** Bias vectors on the q, k and v projections (Qwen2). */
  readonly qkvBias: boolean;
  readonly ropeScaling: RopeScaling | null;
  readonly hiddenSize: number;
  readonly numLayers: number;
  readonly numHeads: number;
  readonly numKvHeads: number;
  readonly headDim: number;
  readonly intermediateSize: number;
  readonly vocabSize: number;
  readonly ropeTheta: number;
  readonly rmsNormEps: number;
  readonly maxPositions: number;
  readonly tieWordEmbeddings: boolean;
  readonly torchDtype: string;
  readonly bosTokenId: number | null;
  readonly eosTokenIds: readonly number[];
  readonly initializerRange: number;
}

/** The name the engine used when Qwen3 was its only family. */
export type Qwen3Config = ModelConfig;

/**
 * Validate a parsed `config.json` object.
 * @param raw the JSON value
 * @param file where it came from, named in errors
 * @throws ConfigurationError naming the field, the value and what was expected
 */
export function parseQwen3Config(raw: unknown, file = 'config.json'): Qwen3Config {
  const parsed = rawConfigSchema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const field = issue?.path.join('.') ?? '?';
    throw new ConfigurationError(
      `${file}: field "${field}" is invalid: ${issue?.message ?? 'unknown problem'}`,
    );
  }
  const c = parsed.data;
  const fail = (msg: string): never => {
    throw new ConfigurationError(`${file}: ${msg}`);
  };
  const family = resolveFamily(c.architectures, c.model_type, fail);
  const rawObj = raw as Record<string, unknown>;
  for (const key of MOE_FIELDS) {
    const v = rawObj[key];
    if (v !== undefined && v !== null && v !== 0) {
      fail(`field "${key}" is ${JSON.stringify(v)}: mixture-of-experts models are not supported`);
    }
  }
  if (c.use_sliding_window === true) {
    fail('field "use_sliding_window" is true: sliding-window attention is not supported');
  }
  const otherLayer = c.layer_types?.find((t) => t !== 'full_attention');
  if (otherLayer !== undefined) {
    fail(`field "layer_types" contains "${otherLayer}": only full_attention layers are supported`);
  }
  if (family === 'llama' && c.attention_bias === true) {
    fail('field "attention_bias" is true: Llama attention biases are not supported');
  }
  if (family === 'qwen3' && c.attention_bias === true) {
    fail('field "attention_bias" is true: Qwen3 attention biases are not supported');
  }
  if (c.mlp_bias === true) fail('field "mlp_bias" is true: MLP biases are not supported');
  if (c.partial_rotary_factor !== undefined && c.partial_rotary_factor !== 1) {
    fail(`field "partial_rotary_factor" is ${c.partial_rotary_factor}: only 1 is supported`);
  }
  if (c.hidden_act !== undefined && c.hidden_act !== 'silu') {
    fail(`field "hidden_act" is "${c.hidden_act}", expected "silu"`);
  }
  const ropeScaling = parseRopeScaling(c.rope_scaling, fail);
  const numKvHeads = c.num_key_value_heads ?? c.num_attention_heads;
  if (c.num_attention_heads % numKvHeads !== 0) {
    fail(
      `num_attention_heads (${c.num_attention_heads}) must be a multiple of num_key_value_heads (${numKvHeads})`,
    );
  }
  const headDim = c.head_dim ?? c.hidden_size / c.num_attention_heads;
  if (!Number.isInteger(headDim)) {
    fail(
      `head_dim is missing and hidden_size (${c.hidden_size}) is not divisible by num_attention_heads (${c.num_attention_heads})`,
    );
  }
  if (headDim % 2 !== 0) fail(`head_dim must be even for RoPE, got ${headDim}`);
  const eos = c.eos_token_id;
  const eosTokenIds = eos === null || eos === undefined ? [] : Array.isArray(eos) ? eos : [eos];
  for (const id of eosTokenIds) {
    if (id >= c.vocab_size) fail(`eos_token_id ${id} is outside vocab_size ${c.vocab_size}`);
  }
  return Object.freeze({
    family,
    qkNorm: family === 'qwen3',
    qkvBias: family === 'qwen2',
    ropeScaling,
    hiddenSize: c.hidden_size,
    numLayers: c.num_hidden_layers,
    numHeads: c.num_attention_heads,
    numKvHeads,
    headDim,
    intermediateSize: c.intermediate_size,
    vocabSize: c.vocab_size,
    ropeTheta: c.rope_theta,
    rmsNormEps: c.rms_norm_eps,
    maxPositions: c.max_position_embeddings,
    tieWordEmbeddings: c.tie_word_embeddings,
    torchDtype: c.torch_dtype ?? 'float32',
    bosTokenId: c.bos_token_id ?? null,
    eosTokenIds: Object.freeze([...eosTokenIds]),
    initializerRange: c.initializer_range ?? 0.02,
  });
}

function resolveFamily(
  architectures: readonly string[] | undefined,
  modelType: string | undefined,
  fail: (msg: string) => never,
): ModelFamily {
  const supported = Object.keys(ARCHITECTURES).join(', ');
  let family: ModelFamily | undefined;
  if (architectures && architectures.length > 0) {
    family = architectures.map((a) => ARCHITECTURES[a]).find((f) => f !== undefined);
    if (!family) {
      fail(`field "architectures" is ${JSON.stringify(architectures)}; supported: ${supported}`);
    }
  }
  if (modelType !== undefined) {
    const byType = (Object.values(ARCHITECTURES) as string[]).includes(modelType)
      ? (modelType as ModelFamily)
      : undefined;
    if (!byType) {
      fail(`field "model_type" is "${modelType}"; supported: qwen3, qwen2, llama`);
    }
    if (family && family !== byType) {
      fail(`field "model_type" is "${modelType}" but architectures says ${family}`);
    }
    family = byType;
  }
  // Configs written before families existed name neither; they were Qwen3.
  return family ?? 'qwen3';
}

function parseRopeScaling(raw: unknown, fail: (msg: string) => never): RopeScaling | null {
  if (raw === undefined || raw === null) return null;
  const parsed = ropeScalingSchema.safeParse(raw);
  if (!parsed.success) fail(`field "rope_scaling" is invalid: ${parsed.error.issues[0]?.message}`);
  const r = parsed.data ?? {};
  const type = r.rope_type ?? r.type ?? 'default';
  if (type === 'default') return null;
  const need = (key: string, v: number | undefined): number =>
    v ?? fail(`field "rope_scaling.${key}" is required for rope_type "${type}"`);
  if (type === 'linear') return { type, factor: need('factor', r.factor) };
  if (type === 'llama3') {
    return {
      type,
      factor: need('factor', r.factor),
      lowFreqFactor: need('low_freq_factor', r.low_freq_factor),
      highFreqFactor: need('high_freq_factor', r.high_freq_factor),
      originalMaxPositions: need(
        'original_max_position_embeddings',
        r.original_max_position_embeddings,
      ),
    };
  }
  return fail(`field "rope_scaling.rope_type" is "${type}"; supported: default, linear, llama3`);
}

const ARCH_OF: Readonly<Record<ModelFamily, string>> = {
  qwen3: 'Qwen3ForCausalLM',
  qwen2: 'Qwen2ForCausalLM',
  llama: 'LlamaForCausalLM',
};

function ropeScalingJson(r: RopeScaling | null): Record<string, unknown> | null {
  if (!r) return null;
  if (r.type === 'linear') return { rope_type: 'linear', factor: r.factor };
  return {
    rope_type: 'llama3',
    factor: r.factor,
    low_freq_factor: r.lowFreqFactor,
    high_freq_factor: r.highFreqFactor,
    original_max_position_embeddings: r.originalMaxPositions,
  };
}

/** The HF `config.json` object for a config (what `createRandomModelFolder` writes). */
export function toHfConfigJson(c: Qwen3Config): Record<string, unknown> {
  return {
    architectures: [ARCH_OF[c.family]],
    model_type: c.family,
    hidden_size: c.hiddenSize,
    num_hidden_layers: c.numLayers,
    num_attention_heads: c.numHeads,
    num_key_value_heads: c.numKvHeads,
    head_dim: c.headDim,
    intermediate_size: c.intermediateSize,
    vocab_size: c.vocabSize,
    rope_theta: c.ropeTheta,
    rms_norm_eps: c.rmsNormEps,
    max_position_embeddings: c.maxPositions,
    tie_word_embeddings: c.tieWordEmbeddings,
    torch_dtype: c.torchDtype,
    bos_token_id: c.bosTokenId,
    eos_token_id: c.eosTokenIds.length === 1 ? c.eosTokenIds[0] : [...c.eosTokenIds],
    hidden_act: 'silu',
    ...(c.family === 'qwen2' ? {} : { attention_bias: false }),
    rope_scaling: ropeScalingJson(c.ropeScaling),
    initializer_range: c.initializerRange,
  };
}

/** Build a config from a partial HF object on top of a tiny default (tests, random models). */
export function qwen3Config(overrides: Readonly<Record<string, unknown>> = {}): Qwen3Config {
  return parseQwen3Config({
    architectures: ['Qwen3ForCausalLM'],
    hidden_size: 32,
    num_hidden_layers: 2,
    num_attention_heads: 4,
    num_key_value_heads: 2,
    head_dim: 8,
    intermediate_size: 64,
    vocab_size: 64,
    rope_theta: 10_000,
    rms_norm_eps: 1e-6,
    max_position_embeddings: 512,
    tie_word_embeddings: false,
    torch_dtype: 'float32',
    eos_token_id: 1,
    ...overrides,
  });
}
