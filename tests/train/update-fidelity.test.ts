/**
 * The policy update against the reference (spell-algorithm.md §7.2, issue 18): π_old recomputed by
 * the learner so the ratio starts at 1, the learner at the rollout temperature, and the
 * sampler−learner log-prob gap logged either way. Runs the real local engine on the tiny model.
 */
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { LocalEngine } from '../../src/engine/local/index.ts';
import { resolveTrainConfig, type TrainConfig } from '../../src/train/config.ts';
import { Counters } from '../../src/train/counters.ts';
import type { Trajectory } from '../../src/train/datums.ts';
import type { RolePolicy } from '../../src/train/policy.ts';
import { learnerTemperature, runPolicyUpdate } from '../../src/train/update.ts';
import { tinyModelDir } from './helpers.ts';

let engine: LocalEngine;
let trajectories: Trajectory[];

beforeAll(async () => {
  engine = await LocalEngine.open({ modelDir: await tinyModelDir() });
  const prompt = [1, 5, 9, 14, 3];
  const res = await engine.sample({
    prompt,
    numSamples: 3,
    params: { maxTokens: 6, temperature: 0.7, topP: 0.95, topK: -1, seed: 11 },
  });
  const adv = [1, -0.5, 0.25];
  trajectories = res.sequences.map((s, i) => ({
    promptIds: prompt,
    tokens: s.tokens,
    logprobs: s.logprobs,
    advantage: adv[i],
  }));
}, 120_000);

afterAll(async () => {
  await engine.close();
});

const config = (over: Record<string, unknown>): TrainConfig =>
  resolveTrainConfig({ algorithm: over, optim: { learningRate: 1e-9 } });

/** The policy as the update sees it: the engine and how it aggregates the loss. */
const policyOf = (e: LocalEngine): Pick<RolePolicy, 'engine' | 'lossAggregation'> => ({
  engine: e,
  lossAggregation: 'sum',
});

/** Sampler log-probs shifted by `delta`, as a remote sampler that disagrees with its learner. */
const shifted = (delta: number): Trajectory[] =>
  trajectories.map((t) => ({ ...t, logprobs: t.logprobs.map((x) => x + delta) }));

describe('policy update fidelity', () => {
  test('recompute (default): ratio 1, no clipping, pg loss = −token-mean advantage', async () => {
    const cfg = config({});
    expect(cfg.algorithm.oldLogprobs).toBe('recompute');
    expect(learnerTemperature(cfg, await engine.info())).toBe(0.7);
    const out = await runPolicyUpdate(policyOf(engine), cfg, trajectories, new Counters());
    const tokens = trajectories.reduce((n, t) => n + t.tokens.length, 0);
    const meanA = trajectories.reduce((s, t) => s + t.advantage * t.tokens.length, 0) / tokens;
    // ratio 1 on every token: loss = Σ −A·(1/N) = −mean A over tokens.
    expect(out.metrics['actor/pg_loss']).toBeCloseTo(-meanA, 6);
    expect(out.metrics['actor/pg_clipfrac']).toBe(0);
    expect(out.metrics['actor/ppo_kl']).toBe(0);
    expect(out.metrics['actor/logprob_temperature']).toBe(0.7);
    // The local sampler and learner agree at the same temperature up to float noise.
    expect(out.metrics['actor/sampler_learner_logprob_gap']).toBeLessThan(1e-4);
  });

  test('a sampler/learner mismatch is clipping under `sampler` and none under `recompute`', async () => {
    // Sampler log-probs 0.5 too high: ratio = e^{-0.5} ≈ 0.61 < 0.8 on every token.
    const bad = shifted(0.5);
    const withSampler = await runPolicyUpdate(
      policyOf(engine),
      config({ oldLogprobs: 'sampler' }),
      bad,
      new Counters(),
    );
    expect(withSampler.metrics['actor/sampler_learner_logprob_gap']).toBeCloseTo(0.5, 3);
    expect(withSampler.metrics['actor/ppo_kl']).toBeCloseTo(0.5, 3);
    // A < 0 below the lower bound is clipped: the one negative-advantage sample's tokens.
    const negTokens = trajectories[1].tokens.length;
    const tokens = trajectories.reduce((n, t) => n + t.tokens.length, 0);
    expect(withSampler.metrics['actor/pg_clipfrac']).toBeCloseTo(negTokens / tokens, 9);

    const recomputed = await runPolicyUpdate(policyOf(engine), config({}), bad, new Counters());
    expect(recomputed.metrics['actor/sampler_learner_logprob_gap']).toBeCloseTo(0.5, 3);
    expect(recomputed.metrics['actor/pg_clipfrac']).toBe(0);
  });

  test('logprobTemperature=raw trains at 1, and the sampler at 0.7 then disagrees', async () => {
    const out = await runPolicyUpdate(
      policyOf(engine),
      config({ logprobTemperature: 'raw' }),
      trajectories,
      new Counters(),
    );
    expect(out.metrics['actor/logprob_temperature']).toBe(1);
    expect(out.metrics['actor/sampler_learner_logprob_gap']).toBeGreaterThan(1e-3);
  });

  test('a batch whose advantages are all zero is skipped: nothing reaches the engine', async () => {
    const counters = new Counters();
    const zero = trajectories.map((t) => ({ ...t, advantage: 0 }));
    const out = await runPolicyUpdate(policyOf(engine), config({}), zero, counters);
    expect(out.datums).toBe(0);
    expect(out.seconds).toBe(0);
    expect(counters.get('train/skipped_update')).toBe(1);
    expect(counters.get('train/skipped_zero_advantage')).toBe(1);
    // one non-zero advantage makes the batch trainable again
    const one = zero.map((t, i) => (i === 0 ? { ...t, advantage: 0.5 } : t));
    const trained = await runPolicyUpdate(policyOf(engine), config({}), one, new Counters());
    expect(trained.datums).toBe(3);
  });

  test('an engine that cannot apply the temperature runs the learner at 1', () => {
    const cfg = config({});
    const info = { modelName: 'x', maxContext: 8, lossAggregation: 'sum' as const };
    expect(learnerTemperature(cfg, info)).toBe(1);
    expect(learnerTemperature(cfg, { ...info, lossTemperature: true })).toBe(0.7);
    expect(() => config({ logprobTemperature: 'raw', oldLogprobs: 'sampler' })).toThrow(
      /oldLogprobs=recompute/,
    );
  });
});
