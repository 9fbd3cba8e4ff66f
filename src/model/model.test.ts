/**
 * The whole model: gradient check against finite differences, overfitting a fixed batch, the PPO
 * direction, loss semantics across calls, and KV-cache sampling against the full forward.
 */
import { describe, expect, it } from 'vitest';
import type { Datum } from '../core/policy-types.ts';
import { qwen3Config } from './config.ts';
import type { Qwen3Config } from './config.ts';
import { Qwen3Model } from './model.ts';

const ADAM = {
  learningRate: 1e-2,
  beta1: 0.9,
  beta2: 0.95,
  eps: 1e-8,
  weightDecay: 0,
  gradClipNorm: 0,
};

function tiny(overrides: Record<string, unknown> = {}): Qwen3Config {
  return qwen3Config({
    hidden_size: 16,
    num_hidden_layers: 2,
    num_attention_heads: 4,
    num_key_value_heads: 2,
    head_dim: 4,
    intermediate_size: 24,
    vocab_size: 32,
    initializer_range: 0.3,
    ...overrides,
  });
}

function ceDatum(seq: readonly number[]): Datum {
  return {
    modelInput: seq.slice(0, -1),
    targetTokens: seq.slice(1),
    weights: seq.slice(1).map(() => 1),
  };
}

describe('Qwen3Model gradients', () => {
  it.each([
    { arch: 'Qwen3ForCausalLM', tied: false },
    { arch: 'Qwen3ForCausalLM', tied: true },
    { arch: 'Qwen2ForCausalLM', tied: false },
    { arch: 'LlamaForCausalLM', tied: true },
  ])(
    'matches central finite differences on sampled parameters ($arch, tied=$tied)',
    ({ arch, tied }) => {
      const rope =
        arch === 'LlamaForCausalLM'
          ? {
              rope_type: 'llama3',
              factor: 8,
              low_freq_factor: 1,
              high_freq_factor: 4,
              original_max_position_embeddings: 4,
            }
          : null;
      const model = Qwen3Model.random(
        tiny({ architectures: [arch], tie_word_embeddings: tied, rope_scaling: rope }),
        11,
      );
      // Norm weights away from 1 and biases away from 0 so their gradients are generic.
      for (const e of model.table.entries) {
        if (e.init !== 'normal') {
          for (let i = 0; i < e.size; i++)
            model.params[e.offset + i] = 1 + 0.3 * Math.sin(i + e.offset);
        }
      }
      const data = [
        ceDatum([3, 7, 1, 30, 12, 7, 5]),
        { ...ceDatum([9, 2, 2, 4]), weights: [0.5, 0, 2] },
      ];
      model.forwardBackward(data, 'cross_entropy');
      const grads = Float64Array.from(model.grads);
      const eps = 1e-2;
      let checked = 0;
      for (const e of model.table.entries) {
        // The three largest-gradient coordinates of every tensor.
        const idx = Array.from({ length: e.size }, (_, i) => e.offset + i)
          .sort((a, b) => Math.abs(grads[b]) - Math.abs(grads[a]))
          .slice(0, 3);
        for (const i of idx) {
          const old = model.params[i];
          model.params[i] = old + eps;
          const lp = model.forward(data, 'cross_entropy').loss;
          model.params[i] = old - eps;
          const lm = model.forward(data, 'cross_entropy').loss;
          model.params[i] = old;
          const numeric = (lp - lm) / (2 * eps);
          // float32 forward, eps 1e-2: tolerance 2e-3 absolute + 3% relative.
          expect(Math.abs(grads[i] - numeric), `${e.name}[${i - e.offset}]`).toBeLessThanOrEqual(
            2e-3 + 0.03 * Math.abs(numeric),
          );
          checked++;
        }
      }
      expect(checked).toBe(model.table.entries.length * 3);
    },
  );

  it('gradients accumulate across forwardBackward calls until optimStep zeroes them', () => {
    const model = Qwen3Model.random(tiny(), 3);
    const a = ceDatum([1, 2, 3, 4, 5]);
    const b = ceDatum([6, 7, 8]);
    const both = model.forwardBackward([a, b], 'cross_entropy');
    const gBoth = Float32Array.from(model.grads);
    model.grads.fill(0);
    const ra = model.forwardBackward([a], 'cross_entropy');
    const rb = model.forwardBackward([b], 'cross_entropy');
    expect(ra.loss + rb.loss).toBeCloseTo(both.loss, 4);
    let maxDiff = 0;
    for (let i = 0; i < gBoth.length; i++)
      maxDiff = Math.max(maxDiff, Math.abs(gBoth[i] - model.grads[i]));
    expect(maxDiff).toBeLessThan(1e-5);
    model.optimStep(ADAM);
    expect(model.grads.every((g) => g === 0)).toBe(true);
  });

  it('cross_entropy loss is the weighted sum of −logprob (hosted semantics)', () => {
    const model = Qwen3Model.random(tiny(), 4);
    const d = { ...ceDatum([1, 5, 9, 13]), weights: [1, 0, 2] };
    const r = model.forward([d], 'cross_entropy');
    const lp = r.logprobs[0];
    expect(lp).toHaveLength(3);
    expect(r.loss).toBeCloseTo(-(lp[0] + 2 * lp[2]), 5);
  });

  it('a non-finite gradient norm skips the step and leaves the weights unchanged', () => {
    const model = Qwen3Model.random(tiny(), 5);
    const before = Float32Array.from(model.params);
    model.grads[0] = NaN;
    const r = model.optimStep(ADAM);
    expect(r.skipped).toBe(1);
    expect(model.adamState.step).toBe(0);
    expect(Array.from(model.params)).toEqual(Array.from(before));
    expect(model.grads[0]).toBe(0);
  });
});

describe('Qwen3Model training', () => {
  it('overfits a fixed batch with cross_entropy: mean token loss < 0.05 after 60 AdamW steps', () => {
    const model = Qwen3Model.random(tiny(), 7);
    const data = [ceDatum([1, 4, 9, 16, 25, 6, 17, 30, 2]), ceDatum([3, 1, 4, 1, 5, 9, 2, 6])];
    const tokens = data.reduce((n, d) => n + d.targetTokens.length, 0);
    const first = model.forward(data, 'cross_entropy').loss / tokens;
    for (let step = 0; step < 60; step++) {
      model.forwardBackward(data, 'cross_entropy');
      model.optimStep({ ...ADAM, gradClipNorm: 10 });
    }
    const last = model.forward(data, 'cross_entropy').loss / tokens;
    expect(first).toBeGreaterThan(2);
    expect(last).toBeLessThan(0.05);
  });

  it('one ppo step with positive advantage raises the logprob of the rewarded tokens', () => {
    const model = Qwen3Model.random(tiny(), 8);
    const input = [5, 6, 7, 8, 9];
    const targets = [6, 7, 8, 9, 10];
    const sampler = model.forward([{ modelInput: input, targetTokens: targets }], 'cross_entropy')
      .logprobs[0];
    // Prompt positions 0..1 carry no advantage; the completion 2..4 is rewarded.
    const adv = [0, 0, 1, 1, 1];
    const datum: Datum = {
      modelInput: input,
      targetTokens: targets,
      logprobs: sampler,
      advantages: adv,
    };
    const r = model.forwardBackward([datum], 'ppo');
    // At r = 1 the ppo loss is −Σ A.
    expect(r.loss).toBeCloseTo(-3, 5);
    model.optimStep({ ...ADAM, learningRate: 1e-3 });
    const after = model.forward([datum], 'ppo').logprobs[0];
    for (const t of [2, 3, 4]) expect(after[t]).toBeGreaterThan(sampler[t]);
  });

  it('importance_sampling loss is −Σ r·A with r = exp(ℓ − s)', () => {
    const model = Qwen3Model.random(tiny(), 9);
    const input = [1, 2, 3];
    const targets = [2, 3, 4];
    const lp = model.forward([{ modelInput: input, targetTokens: targets }], 'cross_entropy')
      .logprobs[0];
    const s = [lp[0] - 0.1, lp[1] + 0.2, lp[2]];
    const A = [1, -2, 0.5];
    const r = model.forward(
      [{ modelInput: input, targetTokens: targets, logprobs: s, advantages: A }],
      'importance_sampling',
    );
    const expected = -(Math.exp(0.1) * 1 + Math.exp(-0.2) * -2 + 1 * 0.5);
    expect(r.loss).toBeCloseTo(expected, 4);
  });
});

describe('Qwen3Model sampling', () => {
  const params = { maxTokens: 6, temperature: 1, topP: 1, topK: -1, seed: 42 };

  it('the same seed and weights give the same tokens; sample i uses seed + i', () => {
    const model = Qwen3Model.random(tiny(), 12);
    const req = { prompt: [1, 2, 3], numSamples: 3, params };
    const a = model.sample(req);
    const b = model.sample(req);
    expect(b).toEqual(a);
    const shifted = model.sample({
      prompt: [1, 2, 3],
      numSamples: 1,
      params: { ...params, seed: 43 },
    });
    expect(shifted.sequences[0].tokens).toEqual(a.sequences[1].tokens);
  });

  it('KV-cache logprobs equal the full-forward logprobs of the same tokens', () => {
    const model = Qwen3Model.random(tiny(), 13);
    const prompt = [4, 8, 15, 16];
    const out = model.sample({ prompt, numSamples: 3, params: { ...params, maxTokens: 8 } });
    for (const seq of out.sequences) {
      const full = [...prompt, ...seq.tokens];
      const r = model.forward(
        [{ modelInput: full.slice(0, -1), targetTokens: full.slice(1) }],
        'cross_entropy',
      );
      const tail = r.logprobs[0].slice(prompt.length - 1);
      expect(tail).toHaveLength(seq.logprobs.length);
      for (let i = 0; i < tail.length; i++)
        expect(Math.abs(tail[i] - seq.logprobs[i])).toBeLessThan(1e-4);
    }
  });

  it('greedy sampling picks the argmax of the logits', () => {
    const model = Qwen3Model.random(tiny(), 14);
    const prompt = [3, 1, 4];
    const out = model.sample({
      prompt,
      numSamples: 2,
      params: { ...params, temperature: 0, maxTokens: 1 },
    });
    const V = model.config.vocabSize;
    const logits = model.logits(prompt).subarray(2 * V, 3 * V);
    const argmax = logits.indexOf(Math.max(...logits));
    expect(out.sequences.map((s) => s.tokens)).toEqual([[argmax], [argmax]]);
  });

  it('stops on a stop token (included) with reason stop, else on maxTokens with reason length', () => {
    const model = Qwen3Model.random(tiny(), 15);
    const prompt = [7, 7, 7];
    const free = model.sample({
      prompt,
      numSamples: 1,
      params: { ...params, temperature: 0, maxTokens: 5 },
    });
    expect(free.sequences[0].tokens).toHaveLength(5);
    expect(free.sequences[0].stopReason).toBe('length');
    const third = free.sequences[0].tokens[2];
    const firstIdx = free.sequences[0].tokens.indexOf(third);
    const stopped = model.sample({
      prompt,
      numSamples: 1,
      params: { ...params, temperature: 0, maxTokens: 5, stopTokenIds: [third] },
    });
    expect(stopped.sequences[0].stopReason).toBe('stop');
    expect(stopped.sequences[0].tokens).toEqual(free.sequences[0].tokens.slice(0, firstIdx + 1));
    const seq = free.sequences[0].tokens.slice(1, 3);
    const bySeq = model.sample({
      prompt,
      numSamples: 1,
      params: { ...params, temperature: 0, maxTokens: 5, stopSequences: [seq] },
    });
    expect(bySeq.sequences[0].stopReason).toBe('stop');
    expect(bySeq.sequences[0].tokens.slice(-2)).toEqual(seq);
  });

  it('top-k 1 is greedy and top-p keeps only the nucleus', () => {
    const model = Qwen3Model.random(tiny({ initializer_range: 1 }), 16);
    const prompt = [2, 9];
    const greedy = model.sample({ prompt, numSamples: 1, params: { ...params, temperature: 0 } });
    const k1 = model.sample({ prompt, numSamples: 4, params: { ...params, topK: 1 } });
    for (const s of k1.sequences) expect(s.tokens).toEqual(greedy.sequences[0].tokens);
    const V = model.config.vocabSize;
    const logits = Array.from(model.logits(prompt).subarray(V, 2 * V));
    const order = logits.map((_, j) => j).sort((a, b) => logits[b] - logits[a]);
    const pTiny = model.sample({
      prompt,
      numSamples: 5,
      params: { ...params, topP: 1e-6, maxTokens: 1 },
    });
    for (const s of pTiny.sequences) expect(s.tokens[0]).toBe(order[0]);
  });

  it('rejects a prompt token outside the vocabulary, naming it', () => {
    const model = Qwen3Model.random(tiny(), 17);
    expect(() => model.sample({ prompt: [1, 99], numSamples: 1, params })).toThrow(
      /prompt\[1\] = 99/,
    );
  });
});
