/**
 * The Tinker JSON wire encoding, kept in one module so another encoding (protobuf, as SDK >= 0.25
 * sends for forward_backward) can be added beside it without touching the client or the server.
 *
 * It holds: zod schemas of the request bodies `spell serve` accepts (lenient about unknown keys,
 * like SkyRL; strict about types), schemas of the result bodies the client reads (lenient: hosted
 * and SkyRL shapes), and pure converters between the port's types (`../types.ts`) and the wire.
 * Tensors are dense 1-D only: SkyRL reads nothing but `data`, so anything else is refused here.
 * No I/O.
 */
import { z } from 'zod';
import { DataError } from '../../core/errors.ts';
import type {
  AdamParams,
  Datum,
  ForwardBackwardResult,
  LossConfig,
  LossName,
  SampledSequence,
  SamplingParams,
} from '../types.ts';

/** The SDK version we speak (the last one with the JSON forward/forward_backward path). */
export const WIRE_SDK_VERSION = '0.24.1';

const tokenId = z.int().min(0);
const finite = z.number().refine(Number.isFinite, 'expected a finite number');

// ---------------------------------------------------------------------------------------------
// Building blocks: ModelInput, TensorData, Datum

/** A chunk; non-text chunks are recognised only to be refused with a precise message. */
const chunkSchema = z.looseObject({
  type: z.string().optional(),
  tokens: z.array(tokenId).optional(),
});
export const modelInputSchema = z.object({ chunks: z.array(chunkSchema) });
export type ModelInputWire = z.infer<typeof modelInputSchema>;

export const tensorDataSchema = z.object({
  data: z.array(finite),
  dtype: z.enum(['int64', 'float32']),
  shape: z.array(z.int().min(0)).optional(),
  sparse_crow_indices: z.array(z.int()).optional(),
  sparse_col_indices: z.array(z.int()).optional(),
});
export type TensorDataWire = z.infer<typeof tensorDataSchema>;

export const datumSchema = z.object({
  model_input: modelInputSchema,
  loss_fn_inputs: z.record(z.string(), tensorDataSchema),
});
export type DatumWire = z.infer<typeof datumSchema>;

export const lossNameSchema = z.enum(['cross_entropy', 'importance_sampling', 'ppo']);

export const forwardBackwardInputSchema = z.object({
  data: z.array(datumSchema),
  loss_fn: lossNameSchema,
  loss_fn_config: z.record(z.string(), finite).nullish(),
});
export type ForwardBackwardInputWire = z.infer<typeof forwardBackwardInputSchema>;

/** A ModelInput of one text chunk. */
export function encodeModelInput(tokens: readonly number[]): ModelInputWire {
  return { chunks: [{ type: 'encoded_text', tokens: [...tokens] }] };
}

/** The token ids of a ModelInput; consecutive text chunks concatenate. */
export function decodeModelInput(input: ModelInputWire, field = 'model_input'): number[] {
  const out: number[] = [];
  input.chunks.forEach((chunk, i) => {
    if ((chunk.type !== undefined && chunk.type !== 'encoded_text') || !chunk.tokens) {
      throw new DataError(
        `${field}.chunks[${i}] has type '${chunk.type ?? '(none)'}'; only 'encoded_text' chunks with tokens are supported`,
        { field: `${field}.chunks[${i}].type` },
      );
    }
    for (const t of chunk.tokens) out.push(t);
  });
  return out;
}

/** A dense 1-D tensor. */
export function encodeTensor(
  values: readonly number[],
  dtype: 'int64' | 'float32',
): TensorDataWire {
  return { data: [...values], dtype, shape: [values.length] };
}

/** The values of a dense 1-D tensor of the expected length; sparse or N-D tensors are refused. */
export function decodeTensor(t: TensorDataWire, field: string, expectedLength?: number): number[] {
  if (t.sparse_crow_indices !== undefined || t.sparse_col_indices !== undefined) {
    throw new DataError(`${field} is a sparse tensor; only dense 1-D tensors are supported`, {
      field,
    });
  }
  if (t.shape !== undefined && (t.shape.length !== 1 || t.shape[0] !== t.data.length)) {
    throw new DataError(
      `${field} has shape [${t.shape.join(', ')}] with ${t.data.length} values; expected a dense 1-D shape [${t.data.length}]`,
      { field },
    );
  }
  if (expectedLength !== undefined && t.data.length !== expectedLength) {
    throw new DataError(
      `${field} has length ${t.data.length}; expected ${expectedLength} (the model_input length)`,
      { field },
    );
  }
  if (t.dtype === 'int64' && !t.data.every((v) => Number.isInteger(v))) {
    throw new DataError(`${field} has dtype int64 but holds non-integer values`, { field });
  }
  return t.data;
}

const DATUM_KEYS = ['target_tokens', 'weights', 'logprobs', 'advantages'] as const;

/** Port datum → wire datum (dense 1-D tensors, canonical dtypes). */
export function encodeDatum(d: Datum): DatumWire {
  const inputs: Record<string, TensorDataWire> = {
    target_tokens: encodeTensor(d.targetTokens, 'int64'),
  };
  if (d.weights) inputs.weights = encodeTensor(d.weights, 'float32');
  if (d.logprobs) inputs.logprobs = encodeTensor(d.logprobs, 'float32');
  if (d.advantages) inputs.advantages = encodeTensor(d.advantages, 'float32');
  return { model_input: encodeModelInput(d.modelInput), loss_fn_inputs: inputs };
}

/** Wire datum → port datum, checking every per-token tensor against the input length. */
export function decodeDatum(w: DatumWire, field: string): Datum {
  const modelInput = decodeModelInput(w.model_input, `${field}.model_input`);
  const n = modelInput.length;
  for (const key of Object.keys(w.loss_fn_inputs)) {
    if (!(DATUM_KEYS as readonly string[]).includes(key)) {
      throw new DataError(
        `${field}.loss_fn_inputs has unknown key '${key}'; expected one of ${DATUM_KEYS.join(', ')}`,
        { field: `${field}.loss_fn_inputs.${key}` },
      );
    }
  }
  const get = (key: (typeof DATUM_KEYS)[number]): number[] | undefined => {
    const t = w.loss_fn_inputs[key];
    return t === undefined ? undefined : decodeTensor(t, `${field}.loss_fn_inputs.${key}`, n);
  };
  const targetTokens = get('target_tokens');
  if (targetTokens === undefined) {
    throw new DataError(`${field}.loss_fn_inputs.target_tokens is missing`, {
      field: `${field}.loss_fn_inputs.target_tokens`,
    });
  }
  const weights = get('weights');
  const logprobs = get('logprobs');
  const advantages = get('advantages');
  return {
    modelInput,
    targetTokens,
    ...(weights ? { weights } : {}),
    ...(logprobs ? { logprobs } : {}),
    ...(advantages ? { advantages } : {}),
  };
}

/** The port's loss config → `loss_fn_config` (undefined when empty). */
export function encodeLossConfig(c?: LossConfig): Record<string, number> | undefined {
  if (!c) return undefined;
  const out: Record<string, number> = {};
  if (c.clipLowThreshold !== undefined) out.clip_low_threshold = c.clipLowThreshold;
  if (c.clipHighThreshold !== undefined) out.clip_high_threshold = c.clipHighThreshold;
  if (c.temperature !== undefined && c.temperature !== 1) out.temperature = c.temperature;
  return Object.keys(out).length > 0 ? out : undefined;
}

/**
 * The `loss_fn_config` key spell serve adds to the protocol (advertised in its capabilities as
 * `loss_fn_config_keys`): the learner's logits are divided by it, every loss.
 */
export const LOSS_TEMPERATURE_KEY = 'temperature';

/** `loss_fn_config` → the port's loss config; unknown keys are refused (as SkyRL does, 4xx). */
export function decodeLossConfig(
  loss: LossName,
  c: Record<string, number> | null | undefined,
): LossConfig | undefined {
  if (!c) return undefined;
  const allowed =
    loss === 'ppo'
      ? ['clip_low_threshold', 'clip_high_threshold', LOSS_TEMPERATURE_KEY]
      : [LOSS_TEMPERATURE_KEY];
  for (const key of Object.keys(c)) {
    if (!allowed.includes(key)) {
      throw new DataError(
        `loss_fn_config key '${key}' is not accepted by loss '${loss}'` +
          (allowed.length ? `; expected one of ${allowed.join(', ')}` : '; it takes no config'),
        { field: `loss_fn_config.${key}` },
      );
    }
  }
  return {
    ...(c.clip_low_threshold !== undefined ? { clipLowThreshold: c.clip_low_threshold } : {}),
    ...(c.clip_high_threshold !== undefined ? { clipHighThreshold: c.clip_high_threshold } : {}),
    ...(c.temperature !== undefined ? { temperature: c.temperature } : {}),
  };
}

// ---------------------------------------------------------------------------------------------
// Requests (§1.1 / §2 of tinker-protocol.md). `type` discriminators are accepted and ignored.

const id = z.string().min(1);
const seqId = z.int().min(1);

export const createSessionSchema = z.object({
  tags: z.array(z.string()).optional(),
  user_metadata: z.record(z.string(), z.unknown()).nullish(),
  sdk_version: z.string().optional(),
});
export const heartbeatSchema = z.object({ session_id: id });
/** `POST /api/v1/sessions/{id}/finish` (SDK >= 0.3x `ServiceClient.close`, or leaving its `with`). */
export const finishSessionSchema = z.object({
  reason: z.object({ type: z.enum(['success', 'errored', 'interrupted']) }),
  detail: z.string().nullish(),
});

export const loraConfigSchema = z.object({
  rank: z.int().min(1),
  seed: z.int().nullish(),
  train_unembed: z.boolean().optional(),
  train_mlp: z.boolean().optional(),
  train_attn: z.boolean().optional(),
});
export const createModelSchema = z.object({
  session_id: id,
  model_seq_id: z.int().min(0).optional(),
  base_model: id,
  lora_config: loraConfigSchema.optional(),
  user_metadata: z.record(z.string(), z.unknown()).nullish(),
});
export const modelIdSchema = z.object({ model_id: id });

export const forwardSchema = z.object({
  model_id: id,
  seq_id: seqId.optional(),
  forward_input: forwardBackwardInputSchema,
});
export const forwardBackwardSchema = z.object({
  model_id: id,
  seq_id: seqId.optional(),
  forward_backward_input: forwardBackwardInputSchema,
});

export const adamParamsSchema = z.object({
  learning_rate: finite.refine((v) => v >= 0, 'expected learning_rate >= 0').default(1e-4),
  beta1: finite.refine((v) => v >= 0 && v < 1, 'expected 0 <= beta1 < 1').default(0.9),
  beta2: finite.refine((v) => v >= 0 && v < 1, 'expected 0 <= beta2 < 1').default(0.95),
  eps: finite.refine((v) => v > 0, 'expected eps > 0').default(1e-12),
  weight_decay: finite.refine((v) => v >= 0, 'expected weight_decay >= 0').default(0),
  grad_clip_norm: finite.refine((v) => v >= 0, 'expected grad_clip_norm >= 0').default(0),
});
export type AdamParamsWire = z.infer<typeof adamParamsSchema>;
export const optimStepSchema = z.object({
  model_id: id,
  seq_id: seqId.optional(),
  adam_params: adamParamsSchema,
});

const checkpointName = z
  .string()
  .regex(/^[A-Za-z0-9_-]{1,255}$/, 'expected a name of letters, digits, _ or - (at most 255)');
export const saveWeightsSchema = z.object({
  model_id: id,
  seq_id: seqId.optional(),
  path: checkpointName.nullish(),
  ttl_seconds: z.int().nullish(),
  overwrite: z.boolean().optional(),
});
export const saveWeightsForSamplerSchema = z.object({
  model_id: id,
  seq_id: seqId.optional(),
  path: checkpointName.nullish(),
  sampling_session_seq_id: z.int().min(0).nullish(),
  ttl_seconds: z.int().nullish(),
});
export const loadWeightsSchema = z.object({
  model_id: id.nullish(),
  seq_id: seqId.nullish(),
  // SDK >= 0.30 create-via-load addressing (no model_id): the load creates the model.
  session_id: id.nullish(),
  model_seq_id: z.int().min(0).nullish(),
  base_model: id.nullish(),
  path: id,
  optimizer: z.boolean().default(true),
});
export type LoadWeightsWire = z.infer<typeof loadWeightsSchema>;
export const createSamplingSessionSchema = z.object({
  session_id: id,
  sampling_session_seq_id: z.int().min(0),
  base_model: id.nullish(),
  model_path: id.nullish(),
});

export const weightsInfoSchema = z.object({ tinker_path: id });

export const samplingParamsSchema = z.object({
  max_tokens: z.int().min(1).nullish(),
  seed: z.int().nullish(),
  stop: z.union([z.string(), z.array(z.string()), z.array(tokenId)]).nullish(),
  temperature: finite.refine((v) => v >= 0, 'expected temperature >= 0').default(1),
  top_k: z.int().min(-1).default(-1),
  top_p: finite.refine((v) => v > 0 && v <= 1, 'expected 0 < top_p <= 1').default(1),
});
export type SamplingParamsWire = z.infer<typeof samplingParamsSchema>;
export const sampleRequestSchema = z.object({
  num_samples: z.int().min(1).max(1024).default(1),
  prompt: modelInputSchema,
  sampling_params: samplingParamsSchema,
  sampling_session_id: id.nullish(),
  seq_id: z.int().min(0).nullish(),
  model_path: id.nullish(),
  base_model: id.nullish(),
  prompt_logprobs: z.boolean().nullish(),
  topk_prompt_logprobs: z.int().min(0).max(20, 'expected at most 20 (as vLLM)').default(0),
  // SDK >= 0.30 fields: top-k of sampled tokens and scoring only the prompt's tail are served;
  // target ids and alternative draws are refused by the service with a precise message.
  topk_sample_logprobs: z.int().min(0).max(20, 'expected at most 20 (as vLLM)').default(0),
  prompt_logprobs_last_n: z.int().min(1).nullish(),
  target_prompt_logprobs: z.unknown().optional(),
  prompt_alt_tokens_k: z.int().min(0).default(0),
  record_stability_info: z.boolean().nullish(),
});
export type SampleRequestWire = z.infer<typeof sampleRequestSchema>;

export const retrieveFutureSchema = z.object({
  request_id: z.union([id, z.int()]).transform(String),
  allow_metadata_only: z.boolean().optional(),
});

// ---------------------------------------------------------------------------------------------
// Results the client reads. Lenient: extra keys pass, ids may be numbers (SkyRL).

export const futureSubmittedSchema = z.looseObject({
  request_id: z.union([z.string(), z.number()]).transform(String),
  model_id: z.string().optional(),
});
export const createSessionResultSchema = z.looseObject({ session_id: z.string() });
export const createModelResultSchema = z.looseObject({ model_id: z.string() });

/** Hosted shape `{model_id, model_data:{model_name, tokenizer_id}}` or SkyRL's (`status`, `base_model`). */
export const getInfoResultSchema = z.looseObject({
  model_id: z.string().optional(),
  status: z.string().optional(),
  model_name: z.string().optional(),
  model_data: z
    .looseObject({
      model_name: z.string().nullish(),
      tokenizer_id: z.string().nullish(),
      base_model: z.string().nullish(),
      lora_config: z.unknown().optional(),
    })
    .optional(),
});
export type GetInfoResult = z.infer<typeof getInfoResultSchema>;

/** True when a get_info answer has SkyRL's shape (a `status` field, `base_model` in model_data). */
export function isSkyrlInfo(info: GetInfoResult): boolean {
  return (
    info.status !== undefined ||
    (info.model_data?.base_model !== undefined && info.model_data.tokenizer_id === undefined)
  );
}

export const capabilitiesSchema = z.looseObject({
  supported_models: z
    .array(
      z.looseObject({
        model_name: z.string().nullish(),
        max_context_length: z.int().nullish(),
      }),
    )
    .default([]),
  /** spell serve's extension: the loss_fn_config keys it accepts beyond the protocol's. */
  loss_fn_config_keys: z.array(z.string()).nullish(),
});

export const forwardBackwardOutputSchema = z.looseObject({
  loss_fn_output_type: z.string().optional(),
  loss_fn_outputs: z.array(z.record(z.string(), tensorDataSchema)),
  metrics: z.record(z.string(), z.number()).nullish(),
});
export type ForwardBackwardOutputWire = z.infer<typeof forwardBackwardOutputSchema>;

export const optimStepResultSchema = z.looseObject({
  metrics: z.record(z.string(), z.number()).nullish(),
});
export const saveWeightsResultSchema = z.looseObject({ path: z.string() });
export const saveForSamplerResultSchema = z.looseObject({
  path: z.string().nullish(),
  sampling_session_id: z.string().nullish(),
});
export const createSamplingSessionResultSchema = z.looseObject({ sampling_session_id: z.string() });

export const sampledSequenceSchema = z.looseObject({
  tokens: z.array(tokenId),
  logprobs: z.array(z.number()).nullish(),
  stop_reason: z.enum(['stop', 'length']),
});
export const sampleResultSchema = z.looseObject({
  sequences: z.array(sampledSequenceSchema),
  prompt_logprobs: z.array(z.number().nullable()).nullish(),
});
export type SampleResultWire = z.infer<typeof sampleResultSchema>;

// ---------------------------------------------------------------------------------------------
// Port ↔ wire for the remaining value types

/** Port Adam parameters → wire AdamParams (every field sent explicitly). */
export function encodeAdamParams(a: AdamParams): AdamParamsWire {
  return {
    learning_rate: a.learningRate,
    beta1: a.beta1,
    beta2: a.beta2,
    eps: a.eps,
    weight_decay: a.weightDecay,
    grad_clip_norm: a.gradClipNorm,
  };
}

export function decodeAdamParams(a: AdamParamsWire): AdamParams {
  return {
    learningRate: a.learning_rate,
    beta1: a.beta1,
    beta2: a.beta2,
    eps: a.eps,
    weightDecay: a.weight_decay,
    gradClipNorm: a.grad_clip_norm,
  };
}

/**
 * Port sampling params → wire. `max_tokens` is always sent (SkyRL requires it) and `stop` is always
 * a list of token ids (SkyRL refuses a bare string). Multi-token stop sequences cannot be expressed
 * as ids; the client applies them after sampling (`truncateAtStopSequences`).
 */
export function encodeSamplingParams(p: SamplingParams): SamplingParamsWire {
  const stop = [...(p.stopTokenIds ?? [])];
  for (const s of p.stopSequences ?? [])
    if (s.length === 1 && !stop.includes(s[0])) stop.push(s[0]);
  return {
    max_tokens: p.maxTokens,
    temperature: p.temperature,
    top_p: p.topP,
    top_k: p.topK === 0 ? -1 : p.topK,
    ...(p.seed !== undefined ? { seed: p.seed } : {}),
    ...(stop.length > 0 ? { stop } : {}),
  };
}

/**
 * Wire sampling params → port. String stops need a tokenizer, which the Tinker routes do not use
 * (the protocol is token-in/token-out), so they are refused with a clear message.
 */
export function decodeSamplingParams(
  p: SamplingParamsWire,
  defaultMaxTokens: number,
): SamplingParams {
  const stop = p.stop ?? [];
  if (typeof stop === 'string' || stop.some((s) => typeof s === 'string')) {
    throw new DataError(
      'sampling_params.stop holds strings; spell serve accepts stop token ids only on the Tinker routes',
      { field: 'sampling_params.stop' },
    );
  }
  return {
    maxTokens: p.max_tokens ?? defaultMaxTokens,
    temperature: p.temperature,
    topP: p.top_p,
    topK: p.top_k,
    ...(stop.length > 0 ? { stopTokenIds: stop as number[] } : {}),
    ...(p.seed !== undefined && p.seed !== null ? { seed: p.seed } : {}),
  };
}

/** Wire sample result → port sequences (missing logprobs become NaN so misuse is visible). */
export function decodeSequences(r: SampleResultWire): SampledSequence[] {
  return r.sequences.map((s) => ({
    tokens: s.tokens,
    logprobs: s.logprobs ?? s.tokens.map(() => Number.NaN),
    stopReason: s.stop_reason,
  }));
}

/**
 * Cut a sampled sequence after the first occurrence of any multi-token stop sequence (the stop
 * sequence stays in `tokens`, as the port promises). Pure; returns the input when nothing matches.
 */
export function truncateAtStopSequences(
  seq: SampledSequence,
  stops: readonly (readonly number[])[] | undefined,
): SampledSequence {
  const multi = (stops ?? []).filter((s) => s.length > 1);
  if (multi.length === 0) return seq;
  for (let end = 1; end <= seq.tokens.length; end++) {
    for (const s of multi) {
      if (end < s.length) continue;
      let hit = true;
      for (let j = 0; j < s.length && hit; j++) hit = seq.tokens[end - s.length + j] === s[j];
      if (hit) {
        return {
          tokens: seq.tokens.slice(0, end),
          logprobs: seq.logprobs.slice(0, end),
          stopReason: 'stop',
        };
      }
    }
  }
  return seq;
}

/** Wire forward/backward output → port result. `loss:sum` when present, else the summed elementwise loss. */
export function decodeForwardBackwardOutput(
  out: ForwardBackwardOutputWire,
  expectedData: number,
): ForwardBackwardResult {
  if (out.loss_fn_outputs.length !== expectedData) {
    throw new DataError(
      `forward_backward result has ${out.loss_fn_outputs.length} loss_fn_outputs; expected one per datum (${expectedData})`,
      { field: 'loss_fn_outputs' },
    );
  }
  const metrics = out.metrics ?? {};
  const logprobs = out.loss_fn_outputs.map((o, i) => {
    const t = o.logprobs;
    if (!t) {
      throw new DataError(`loss_fn_outputs[${i}] has no 'logprobs' tensor`, {
        field: `loss_fn_outputs[${i}].logprobs`,
      });
    }
    return decodeTensor(t, `loss_fn_outputs[${i}].logprobs`);
  });
  let loss = metrics['loss:sum'];
  if (loss === undefined) {
    loss = 0;
    for (const o of out.loss_fn_outputs) {
      const e = o.elementwise_loss;
      if (e) for (const v of e.data) loss += v;
    }
  }
  return { logprobs, loss, metrics };
}

/** Port forward/backward result → wire output (hosted style: `ArrayRecord`, `loss:sum`). */
export function encodeForwardBackwardOutput(r: ForwardBackwardResult): ForwardBackwardOutputWire {
  const metrics: Record<string, number> = {};
  for (const [k, v] of Object.entries(r.metrics)) metrics[k.includes(':') ? k : `${k}:mean`] = v;
  metrics['loss:sum'] = r.loss;
  return {
    loss_fn_output_type: 'ArrayRecord',
    loss_fn_outputs: r.logprobs.map((lp) => ({ logprobs: encodeTensor(lp, 'float32') })),
    metrics,
  };
}
