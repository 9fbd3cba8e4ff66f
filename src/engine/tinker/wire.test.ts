import { describe, expect, test } from 'vitest';
import { DataError } from '../../core/errors.ts';
import {
  decodeDatum,
  decodeForwardBackwardOutput,
  decodeLossConfig,
  encodeLossConfig,
  encodeDatum,
  encodeSamplingParams,
  getInfoResultSchema,
  isSkyrlInfo,
  truncateAtStopSequences,
} from './wire.ts';

describe('wire: datums', () => {
  test('a datum encodes to one text chunk and dense 1-D tensors with canonical dtypes', () => {
    const w = encodeDatum({
      modelInput: [100, 101],
      targetTokens: [101, 102],
      advantages: [0, 0.5],
      logprobs: [0, -1.2],
    });
    expect(w).toEqual({
      model_input: { chunks: [{ type: 'encoded_text', tokens: [100, 101] }] },
      loss_fn_inputs: {
        target_tokens: { data: [101, 102], dtype: 'int64', shape: [2] },
        logprobs: { data: [0, -1.2], dtype: 'float32', shape: [2] },
        advantages: { data: [0, 0.5], dtype: 'float32', shape: [2] },
      },
    });
    expect(decodeDatum(w, 'data[0]')).toEqual({
      modelInput: [100, 101],
      targetTokens: [101, 102],
      advantages: [0, 0.5],
      logprobs: [0, -1.2],
    });
  });

  test('consecutive text chunks concatenate; a tensor without shape is 1-D', () => {
    const d = decodeDatum(
      {
        model_input: { chunks: [{ tokens: [1] }, { type: 'encoded_text', tokens: [2, 3] }] },
        loss_fn_inputs: { target_tokens: { data: [2, 3, 4], dtype: 'int64' } },
      },
      'd',
    );
    expect(d).toEqual({ modelInput: [1, 2, 3], targetTokens: [2, 3, 4] });
  });

  test.each([
    [
      'a length mismatch',
      { target_tokens: { data: [1], dtype: 'int64' as const } },
      /d\.loss_fn_inputs\.target_tokens has length 1; expected 2/,
    ],
    [
      'a sparse tensor',
      { target_tokens: { data: [1, 2], dtype: 'int64' as const, sparse_crow_indices: [0, 2] } },
      /sparse tensor/,
    ],
    [
      'a 2-D tensor',
      { target_tokens: { data: [1, 2], dtype: 'int64' as const, shape: [1, 2] } },
      /shape \[1, 2\]/,
    ],
    [
      'a fractional int64',
      { target_tokens: { data: [1, 2.5], dtype: 'int64' as const } },
      /int64 but holds non-integer/,
    ],
    [
      'an unknown key',
      {
        target_tokens: { data: [1, 2], dtype: 'int64' as const },
        mask: { data: [1, 1], dtype: 'float32' as const },
      },
      /unknown key 'mask'/,
    ],
    ['no targets', {}, /target_tokens is missing/],
  ])('%s is refused with a DataError naming the field', (_n, inputs, msg) => {
    const w = {
      model_input: { chunks: [{ type: 'encoded_text', tokens: [5, 6] }] },
      loss_fn_inputs: inputs,
    };
    expect(() => decodeDatum(w, 'd')).toThrow(DataError);
    expect(() => decodeDatum(w, 'd')).toThrow(msg);
  });

  test('an image chunk is refused', () => {
    const w = { model_input: { chunks: [{ type: 'image', data: 'xx' }] }, loss_fn_inputs: {} };
    expect(() => decodeDatum(w, 'd')).toThrow(/d\.model_input\.chunks\[0\] has type 'image'/);
  });

  test('loss_fn_config keys are checked per loss', () => {
    expect(decodeLossConfig('ppo', { clip_low_threshold: 0.7 })).toEqual({ clipLowThreshold: 0.7 });
    expect(() => decodeLossConfig('cross_entropy', { clip_low_threshold: 0.7 })).toThrow(
      /not accepted by loss 'cross_entropy'; expected one of temperature/,
    );
  });

  test("spell's temperature key: every loss accepts it, and 1 is not sent", () => {
    expect(decodeLossConfig('cross_entropy', { temperature: 0.7 })).toEqual({ temperature: 0.7 });
    expect(decodeLossConfig('ppo', { temperature: 0.7, clip_high_threshold: 1.3 })).toEqual({
      temperature: 0.7,
      clipHighThreshold: 1.3,
    });
    expect(encodeLossConfig({ temperature: 0.7 })).toEqual({ temperature: 0.7 });
    expect(encodeLossConfig({ temperature: 1 })).toBeUndefined();
  });
});

describe('wire: sampling', () => {
  test('max_tokens is always sent and stops become one list of token ids', () => {
    expect(
      encodeSamplingParams({
        maxTokens: 8,
        temperature: 0.7,
        topP: 0.9,
        topK: 0,
        seed: 4,
        stopTokenIds: [7],
        stopSequences: [[9], [1, 2]],
      }),
    ).toEqual({ max_tokens: 8, temperature: 0.7, top_p: 0.9, top_k: -1, seed: 4, stop: [7, 9] });
  });

  test('multi-token stop sequences cut the sample after their first occurrence', () => {
    const seq = {
      tokens: [5, 1, 2, 6, 1, 2],
      logprobs: [-1, -2, -3, -4, -5, -6],
      stopReason: 'length' as const,
    };
    expect(truncateAtStopSequences(seq, [[1, 2]])).toEqual({
      tokens: [5, 1, 2],
      logprobs: [-1, -2, -3],
      stopReason: 'stop',
    });
    expect(truncateAtStopSequences(seq, [[2, 5]])).toBe(seq);
  });
});

describe('wire: results of different servers', () => {
  test('hosted get_info is not SkyRL; SkyRL get_info is', () => {
    const hosted = getInfoResultSchema.parse({
      model_id: 'm',
      model_data: { model_name: 'Qwen/Qwen3-8B', tokenizer_id: 'Qwen/Qwen3-8B' },
    });
    const skyrl = getInfoResultSchema.parse({
      model_id: 'model_1',
      status: 'ready',
      model_data: {
        base_model: 'Qwen/Qwen3-8B',
        lora_config: { rank: 32 },
        model_name: 'Qwen/Qwen3-8B',
      },
    });
    expect(isSkyrlInfo(hosted)).toBe(false);
    expect(isSkyrlInfo(skyrl)).toBe(true);
  });

  test("without loss:sum (SkyRL's JAX backend) the loss is the summed elementwise loss", () => {
    const r = decodeForwardBackwardOutput(
      {
        loss_fn_output_type: 'scalar',
        loss_fn_outputs: [
          {
            logprobs: { data: [-1, -2], dtype: 'float32' },
            elementwise_loss: { data: [0.5, 0.25], dtype: 'float32' },
          },
        ],
        metrics: {},
      },
      1,
    );
    expect(r).toEqual({ logprobs: [[-1, -2]], loss: 0.75, metrics: {} });
  });

  test('a result with the wrong number of outputs is refused', () => {
    expect(() =>
      decodeForwardBackwardOutput({ loss_fn_outputs: [], metrics: { 'loss:sum': 1 } }, 2),
    ).toThrow(/expected one per datum \(2\)/);
  });
});
