/**
 * LoRA in the whole model: adapter gradients against finite differences, the base frozen (no
 * base gradient or moment ever allocated, base weights bit-identical after training), a fresh
 * adapter changing nothing, sampling through the merged weights, and a fixed batch overfitted.
 */
import { describe, expect, it } from 'vitest';
import type { Datum } from '../core/policy-types.ts';
import { qwen3Config } from './config.ts';
import { loraConfig } from './lora.ts';
import { Qwen3Model } from './model.ts';

const ADAM = {
  learningRate: 1e-2,
  beta1: 0.9,
  beta2: 0.95,
  eps: 1e-8,
  weightDecay: 0,
  gradClipNorm: 0,
};

const tiny = qwen3Config({
  hidden_size: 16,
  num_hidden_layers: 2,
  num_attention_heads: 4,
  num_key_value_heads: 2,
  head_dim: 4,
  intermediate_size: 24,
  vocab_size: 32,
  initializer_range: 0.3,
});

function ceDatum(seq: readonly number[]): Datum {
  return {
    modelInput: seq.slice(0, -1),
    targetTokens: seq.slice(1),
    weights: seq.slice(1).map(() => 1),
  };
}

function loraModel(seed = 11): Qwen3Model {
  const m = Qwen3Model.random(tiny, seed);
  m.enableLora(loraConfig({ rank: 3, alpha: 6, seed: 2 }));
  // B starts at zero (a fresh adapter is a no-op); give it values so every gradient is generic.
  const lora = m.lora;
  if (!lora) throw new Error('no adapters');
  for (const e of lora.table.entries) {
    for (let i = 0; i < e.outDim * 3; i++)
      lora.params[e.offsetB + i] = 0.2 * Math.sin(i + e.offsetB);
  }
  m.adaptersChanged();
  return m;
}

describe('LoRA in the model', () => {
  it('a fresh adapter leaves the logits unchanged', () => {
    const base = Qwen3Model.random(tiny, 4);
    const lora = Qwen3Model.random(tiny, 4);
    lora.enableLora(loraConfig({ rank: 4 }));
    expect(Array.from(lora.logits([1, 2, 3]))).toEqual(Array.from(base.logits([1, 2, 3])));
  });

  it('adapter gradients match central finite differences; no base gradient is allocated', () => {
    const model = loraModel();
    const data = [
      ceDatum([3, 7, 1, 30, 12, 7, 5]),
      { ...ceDatum([9, 2, 2, 4]), weights: [0.5, 0, 2] },
    ];
    model.forwardBackward(data, 'cross_entropy');
    const lora = model.lora;
    if (!lora) throw new Error('no adapters');
    const grads = Float64Array.from(lora.grads);
    const eps = 1e-2;
    let checked = 0;
    for (const e of lora.table.entries) {
      for (const [off, size] of [
        [e.offsetA, 3 * e.inDim],
        [e.offsetB, 3 * e.outDim],
      ]) {
        const idx = Array.from({ length: size }, (_, i) => off + i)
          .sort((a, b) => Math.abs(grads[b]) - Math.abs(grads[a]))
          .slice(0, 2);
        for (const i of idx) {
          const old = lora.params[i];
          lora.params[i] = old + eps;
          const lp = model.forward(data, 'cross_entropy').loss;
          lora.params[i] = old - eps;
          const lm = model.forward(data, 'cross_entropy').loss;
          lora.params[i] = old;
          const numeric = (lp - lm) / (2 * eps);
          expect(Math.abs(grads[i] - numeric), `${e.module}[${i}]`).toBeLessThanOrEqual(
            2e-3 + 0.03 * Math.abs(numeric),
          );
          checked++;
        }
      }
    }
    expect(checked).toBe(lora.table.entries.length * 4);
    // The private gradient buffer of the base was never created.
    expect((model as unknown as { gradBuf: unknown }).gradBuf).toBeNull();
    expect((model as unknown as { adam: unknown }).adam).toBeNull();
  });

  it('trains the adapters only: the base is bit-identical, the fixed batch is overfitted', () => {
    const model = Qwen3Model.random(tiny, 7);
    model.enableLora(loraConfig({ rank: 4, alpha: 8 }));
    const before = Float32Array.from(model.params);
    const data = [ceDatum([1, 4, 9, 16, 25, 6, 17, 30, 2]), ceDatum([3, 1, 4, 1, 5, 9, 2, 6])];
    const tokens = data.reduce((n, d) => n + d.targetTokens.length, 0);
    const first = model.forward(data, 'cross_entropy').loss / tokens;
    for (let step = 0; step < 60; step++) {
      model.forwardBackward(data, 'cross_entropy');
      model.optimStep({ ...ADAM, gradClipNorm: 10 });
    }
    const last = model.forward(data, 'cross_entropy').loss / tokens;
    expect(first).toBeGreaterThan(2);
    expect(last).toBeLessThan(first / 4);
    expect(model.optimizerStep).toBe(60);
    expect(Buffer.from(model.params.buffer).equals(Buffer.from(before.buffer))).toBe(true);
  });

  it('sampling reads the merged weights: greedy tokens follow the adapted logits', () => {
    const model = loraModel(5);
    const prompt = [1, 2, 3];
    const seq = [...prompt];
    for (let i = 0; i < 5; i++) {
      const logits = model.logits(seq);
      const row = logits.subarray((seq.length - 1) * 32, seq.length * 32);
      seq.push(row.indexOf(Math.max(...row)));
    }
    const r = model.sample({
      prompt,
      numSamples: 1,
      params: { maxTokens: 5, temperature: 0, topP: 1, topK: -1, seed: 1 },
    });
    expect(r.sequences[0].tokens).toEqual(seq.slice(prompt.length));
  });
});
