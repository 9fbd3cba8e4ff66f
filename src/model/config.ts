/**
 * The Qwen3 model configuration: an HF-style `config.json` parsed and validated with zod, reduced
 * to the numbers the embedded engine needs. Unknown HF keys are allowed (real checkpoints carry
 * many) but every key we use is type-checked and cross-checked (heads divide evenly, ...).
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
  })
  .loose();

/** The validated configuration, with HF defaults resolved (camelCase, immutable). */
export interface Qwen3Config {
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
  if (c.architectures && !c.architectures.includes('Qwen3ForCausalLM')) {
    fail(
      `architectures is ${JSON.stringify(c.architectures)}, expected ["Qwen3ForCausalLM"] (only the dense Qwen3 architecture is supported)`,
    );
  }
  if (c.attention_bias === true) fail('attention_bias true is not supported (Qwen3 has no bias)');
  if (c.hidden_act !== undefined && c.hidden_act !== 'silu') {
    fail(`hidden_act is "${c.hidden_act}", expected "silu"`);
  }
  if (c.rope_scaling !== undefined && c.rope_scaling !== null) {
    fail('rope_scaling is set; only plain RoPE is supported (remove rope_scaling)');
  }
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

/** The HF `config.json` object for a config (what `createRandomModelFolder` writes). */
export function toHfConfigJson(c: Qwen3Config): Record<string, unknown> {
  return {
    architectures: ['Qwen3ForCausalLM'],
    model_type: 'qwen3',
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
    attention_bias: false,
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
