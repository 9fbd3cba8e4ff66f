/**
 * The learner temperature (spell-algorithm.md §7.2): the reference's actor divides the logits by the
 * rollout temperature in both log-prob passes. Checked on the literal example through the
 * real LM-head pass, against finite differences on the whole model, and against the sampler's
 * logprobs at the same temperature.
 */
import { describe, expect, it } from 'vitest';
import type { Datum } from '../engine/types.ts';
import { qwen3Config } from './config.ts';
import { lmHeadPass } from './forward.ts';
import { resolveLoss, tokenLoss } from './losses.ts';
import { Qwen3Model } from './model.ts';
import { pointParams } from './params.ts';
import { allocWorkspace, backwardScratch } from './workspace.ts';

const tiny = (vocab = 32) =>
  qwen3Config({
    hidden_size: 16,
    num_hidden_layers: 1,
    num_attention_heads: 4,
    num_key_value_heads: 2,
    head_dim: 4,
    intermediate_size: 24,
    vocab_size: vocab,
    initializer_range: 0.3,
    tie_word_embeddings: false,
  });

/**
 * One row whose logits are exactly [2, 0]: xf = e₀ and lmHead row 0 = 2·e₀, row 1 = 0, so the
 * lmHead gradient's column 0 is ∂L/∂z.
 */
function exampleRow(temperature: number): { logprob: number; dz: [number, number] } {
  const c = tiny(2);
  const model = new Qwen3Model(c);
  const grads = new Float32Array(model.table.totalSize);
  const gv = pointParams(c, model.table, grads);
  model.views.lmHead[0] = 2;
  const ws = allocWorkspace(c, 1);
  ws.xf.fill(0);
  ws.xf[0] = 1;
  const scratch = backwardScratch(c, ws);
  const loss = resolveLoss('ppo', { temperature });
  // Sampled token 0, advantage +1, sampler logprob = the learner's (ratio 1).
  let logprob = NaN;
  lmHeadPass(c, model.views, gv, ws, scratch, [0], 1, loss.temperature, (t, lp) => {
    logprob = lp;
    const d: Datum = { modelInput: [0], targetTokens: [0], logprobs: [lp], advantages: [1] };
    return tokenLoss(loss, d, t, lp).dlogprob;
  });
  const C = c.hiddenSize;
  return { logprob, dz: [gv.lmHead[0], gv.lmHead[C]] };
}

describe('learner temperature', () => {
  it("reproduces the issue's example: logits [2, 0], token 0, A = +1, ratio 1", () => {
    const t07 = exampleRow(0.7);
    expect(t07.logprob).toBeCloseTo(-0.05584, 5);
    expect(t07.dz[0]).toBeCloseTo(-0.0776, 4);
    expect(t07.dz[1]).toBeCloseTo(0.0776, 4);
    const t1 = exampleRow(1);
    expect(t1.logprob).toBeCloseTo(-0.12693, 5);
    expect(t1.dz[0]).toBeCloseTo(-0.1192, 4);
    expect(t1.dz[1]).toBeCloseTo(0.1192, 4);
  });

  it('rejects a non-positive temperature', () => {
    expect(() => resolveLoss('ppo', { temperature: 0 })).toThrow(/temperature/);
  });

  it('the ppo gradient at temperature 0.7 matches central finite differences', () => {
    const model = Qwen3Model.random(tiny(), 5);
    const seq = [3, 7, 1, 30, 12, 7];
    const base: Datum = { modelInput: seq.slice(0, -1), targetTokens: seq.slice(1) };
    const cfg = { temperature: 0.7 };
    const lp = model.forward([{ ...base, weights: [1, 1, 1, 1, 1] }], 'cross_entropy', cfg)
      .logprobs[0];
    // Sampler logprobs a little off the learner's so the ratio is not 1 but stays unclipped.
    const datum: Datum = {
      ...base,
      logprobs: lp.map((x, i) => x + 0.03 * Math.sin(i)),
      advantages: [0.5, -1, 0, 2, -0.7],
    };
    model.forwardBackward([datum], 'ppo', cfg);
    const grads = Float64Array.from(model.grads);
    const eps = 1e-2;
    for (const e of model.table.entries) {
      const idx = Array.from({ length: e.size }, (_, i) => e.offset + i)
        .sort((a, b) => Math.abs(grads[b]) - Math.abs(grads[a]))
        .slice(0, 2);
      for (const i of idx) {
        const old = model.params[i];
        model.params[i] = old + eps;
        const lp2 = model.forward([datum], 'ppo', cfg).loss;
        model.params[i] = old - eps;
        const lm = model.forward([datum], 'ppo', cfg).loss;
        model.params[i] = old;
        const numeric = (lp2 - lm) / (2 * eps);
        expect(Math.abs(grads[i] - numeric), `${e.name}[${i - e.offset}]`).toBeLessThanOrEqual(
          2e-3 + 0.03 * Math.abs(numeric),
        );
      }
    }
  });

  it("the sampler's logprobs at temperature 0.7 equal the learner's at 0.7, not at 1", () => {
    const model = Qwen3Model.random(tiny(), 13);
    const prompt = [4, 8, 15, 16];
    const params = { maxTokens: 8, temperature: 0.7, topP: 0.95, topK: -1, seed: 7 };
    const out = model.sample({ prompt, numSamples: 3, params });
    let gapRaw = 0;
    for (const seq of out.sequences) {
      const full = [...prompt, ...seq.tokens];
      const d: Datum = { modelInput: full.slice(0, -1), targetTokens: full.slice(1) };
      const tempered = model.forward([d], 'cross_entropy', { temperature: 0.7 }).logprobs[0];
      const raw = model.forward([d], 'cross_entropy').logprobs[0];
      const P = prompt.length - 1;
      seq.logprobs.forEach((s, i) => {
        expect(Math.abs(tempered[P + i] - s)).toBeLessThan(1e-4);
        gapRaw = Math.max(gapRaw, Math.abs(raw[P + i] - s));
      });
    }
    expect(gapRaw).toBeGreaterThan(1e-3);
  });
});
