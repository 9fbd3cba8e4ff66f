/**
 * The PolicyEngine conformance suite: the same invariants, run against every engine (the in-process
 * LocalEngine, and the TinkerEngine talking to `spell serve`). Each test opens fresh engines from
 * `makeEngine`, which must always start from the same initial weights.
 */
import { describe, expect, test } from 'vitest';
import type { AdamParams, Datum, PolicyEngine, SamplingParams } from '../../src/engine/types.ts';

export type MakeEngine = () => Promise<PolicyEngine>;

/** A fixed little batch: token i of the model input predicts token i+1 (vocab >= 64). */
export const BATCH: readonly Datum[] = [
  { modelInput: [5, 6, 7, 8, 9], targetTokens: [6, 7, 8, 9, 10], weights: [0, 1, 1, 1, 1] },
  { modelInput: [20, 21, 22], targetTokens: [21, 22, 23], weights: [1, 1, 0.5] },
];

/** An RL batch for the importance-sampling / ppo losses. */
export const RL_BATCH: readonly Datum[] = [
  {
    modelInput: [3, 4, 11, 12],
    targetTokens: [4, 11, 12, 13],
    logprobs: [0, -3.9, -4.1, -4.0],
    advantages: [0, 0.5, 0.5, 0.5],
  },
];

export const ADAM: AdamParams = {
  learningRate: 1e-2,
  beta1: 0.9,
  beta2: 0.95,
  eps: 1e-8,
  weightDecay: 0.01,
  gradClipNorm: 1,
};

export const SAMPLING: SamplingParams = {
  maxTokens: 6,
  temperature: 1,
  topP: 1,
  topK: -1,
  seed: 17,
};

/** The training script both the conformance and the cross-engine tests run; returns everything observable. */
export async function trainingScript(engine: PolicyEngine): Promise<unknown> {
  const before = await engine.forward(BATCH, 'cross_entropy');
  const fb = await engine.forwardBackward(BATCH, 'cross_entropy');
  const rl = await engine.forwardBackward(RL_BATCH, 'ppo', {
    clipLowThreshold: 0.8,
    clipHighThreshold: 1.2,
  });
  const step = await engine.optimStep(ADAM);
  await engine.refreshSampler();
  const after = await engine.forward(BATCH, 'cross_entropy');
  const samples = await engine.sample({ prompt: [1, 2, 3], numSamples: 3, params: SAMPLING });
  return {
    before: [before.loss, before.logprobs],
    fb: [fb.loss, fb.logprobs],
    rl: [rl.loss, rl.logprobs],
    gradNorm: step.metrics.grad_norm,
    after: [after.loss, after.logprobs],
    samples: samples.sequences,
  };
}

async function withEngine<T>(make: MakeEngine, fn: (e: PolicyEngine) => Promise<T>): Promise<T> {
  const engine = await make();
  try {
    return await fn(engine);
  } finally {
    await engine.close();
  }
}

/** Register the suite under `describe(name)`. */
export function runEngineConformance(name: string, makeEngine: MakeEngine): void {
  describe(`PolicyEngine conformance: ${name}`, () => {
    test('info reports a model name, a positive context length and sum aggregation', async () => {
      await withEngine(makeEngine, async (e) => {
        const info = await e.info();
        expect(info.modelName.length).toBeGreaterThan(0);
        expect(info.maxContext).toBeGreaterThan(0);
        expect(info.lossAggregation).toBe('sum');
      });
    });

    test('the same seed gives the same samples; sample i uses seed + i', async () => {
      await withEngine(makeEngine, async (e) => {
        const a = await e.sample({ prompt: [1, 2, 3], numSamples: 3, params: SAMPLING });
        const b = await e.sample({ prompt: [1, 2, 3], numSamples: 3, params: SAMPLING });
        expect(b).toEqual(a);
        expect(a.sequences).toHaveLength(3);
        const second = await e.sample({
          prompt: [1, 2, 3],
          numSamples: 1,
          params: { ...SAMPLING, seed: SAMPLING.seed! + 1 },
        });
        expect(second.sequences[0]).toEqual(a.sequences[1]);
        for (const s of a.sequences) {
          expect(s.tokens).toHaveLength(SAMPLING.maxTokens);
          expect(s.logprobs).toHaveLength(s.tokens.length);
          expect(s.stopReason).toBe('length');
          for (const lp of s.logprobs) expect(lp).toBeLessThanOrEqual(0);
        }
      });
    });

    test('greedy sampling ignores the seed, and its logprobs equal the forward pass logprobs', async () => {
      await withEngine(makeEngine, async (e) => {
        const greedy = { ...SAMPLING, temperature: 0 };
        const a = await e.sample({
          prompt: [1, 2, 3],
          numSamples: 2,
          params: { ...greedy, seed: 1 },
        });
        const b = await e.sample({
          prompt: [1, 2, 3],
          numSamples: 1,
          params: { ...greedy, seed: 99 },
        });
        expect(a.sequences[0].tokens).toEqual(a.sequences[1].tokens);
        expect(b.sequences[0].tokens).toEqual(a.sequences[0].tokens);
        const seq = a.sequences[0];
        const full = [1, 2, 3, ...seq.tokens];
        const fwd = await e.forward(
          [
            {
              modelInput: full.slice(0, -1),
              targetTokens: full.slice(1),
              weights: full.slice(1).map(() => 1),
            },
          ],
          'cross_entropy',
        );
        const learner = fwd.logprobs[0].slice(2);
        learner.forEach((lp, i) => expect(lp).toBeCloseTo(seq.logprobs[i], 4));
      });
    });

    test('a stop token ends the sample, is kept in tokens, and sets stopReason stop', async () => {
      await withEngine(makeEngine, async (e) => {
        const greedy = { ...SAMPLING, temperature: 0 };
        const free = await e.sample({ prompt: [1, 2, 3], numSamples: 1, params: greedy });
        const stopAt = free.sequences[0].tokens[2];
        const stopped = await e.sample({
          prompt: [1, 2, 3],
          numSamples: 1,
          params: { ...greedy, stopTokenIds: [stopAt] },
        });
        const s = stopped.sequences[0];
        expect(s.stopReason).toBe('stop');
        expect(s.tokens[s.tokens.length - 1]).toBe(stopAt);
        expect(s.tokens).toEqual(free.sequences[0].tokens.slice(0, s.tokens.length));
      });
    });

    test('forwardBackward reports the same logprobs and loss as forward on the same batch', async () => {
      await withEngine(makeEngine, async (e) => {
        const f1 = await e.forward(BATCH, 'cross_entropy');
        const f2 = await e.forward(BATCH, 'cross_entropy');
        expect(f2.loss).toBe(f1.loss);
        expect(f2.logprobs).toEqual(f1.logprobs);
        const fb = await e.forwardBackward(BATCH, 'cross_entropy');
        expect(fb.logprobs).toEqual(f1.logprobs);
        expect(fb.loss).toBeCloseTo(f1.loss, 10);
        // Hosted semantics: the loss is the weighted sum of -logprob.
        let sum = 0;
        BATCH.forEach((d, i) => d.weights!.forEach((w, t) => (sum -= w * f1.logprobs[i][t])));
        expect(f1.loss).toBeCloseTo(sum, 6);
        expect(f1.logprobs.map((l) => l.length)).toEqual(BATCH.map((d) => d.modelInput.length));
      });
    });

    test('optimStep changes the weights, and an identical second run gives identical results', async () => {
      const first = await withEngine(makeEngine, trainingScript);
      const second = await withEngine(makeEngine, trainingScript);
      expect(second).toEqual(first);
      const r = first as { before: [number, number[][]]; after: [number, number[][]] };
      expect(r.after[0]).not.toBe(r.before[0]);
      expect(r.after[0]).toBeLessThan(r.before[0]); // one CE step lowers the CE loss of its batch
    });

    test('save then load restores weights and optimizer state', async () => {
      await withEngine(makeEngine, async (e) => {
        await e.forwardBackward(BATCH, 'cross_entropy');
        await e.optimStep(ADAM);
        const ref = await e.save('conformance-roundtrip');
        const saved = await e.forward(BATCH, 'cross_entropy');
        await e.forwardBackward(BATCH, 'cross_entropy');
        await e.optimStep(ADAM);
        const moved = await e.forward(BATCH, 'cross_entropy');
        expect(moved.loss).not.toBe(saved.loss);
        await e.load(ref);
        await e.refreshSampler();
        const restored = await e.forward(BATCH, 'cross_entropy');
        expect(restored.logprobs).toEqual(saved.logprobs);
        // Same optimizer moments → the same second step as before the load.
        await e.forwardBackward(BATCH, 'cross_entropy');
        await e.optimStep(ADAM);
        const again = await e.forward(BATCH, 'cross_entropy');
        expect(again.logprobs).toEqual(moved.logprobs);
      });
    });
  });
}
