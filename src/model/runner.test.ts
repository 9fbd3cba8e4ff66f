/**
 * The model in a worker: results equal the in-thread model (also when sample requests are
 * batched), operations keep their arrival order, errors keep their class, and the main thread
 * keeps ticking while the worker computes.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EngineError } from '../core/errors.ts';
import { qwen3Config, toHfConfigJson } from './config.ts';
import { Qwen3Model } from './model.ts';
import { ModelRunner } from './runner.ts';

const config = qwen3Config({
  hidden_size: 64,
  intermediate_size: 128,
  vocab_size: 128,
  head_dim: 16,
});
let runner: ModelRunner;

beforeAll(async () => {
  runner = await ModelRunner.start({
    source: { kind: 'random', hfConfig: toHfConfigJson(config), seed: 5 },
  });
});
afterAll(async () => {
  await runner.close();
});

describe('ModelRunner', () => {
  it('computes the same logprobs and samples as the in-thread model with the same seed', async () => {
    const local = Qwen3Model.random(config, 5);
    const data = [{ modelInput: [1, 2, 3, 4], targetTokens: [2, 3, 4, 5] }];
    const remote = await runner.forward(data, 'cross_entropy');
    expect(remote.logprobs).toEqual(local.forward(data, 'cross_entropy').logprobs);
    const req = {
      prompt: [9, 8, 7],
      numSamples: 2,
      params: { maxTokens: 4, temperature: 1, topP: 1, topK: -1, seed: 3 },
    };
    expect(await runner.sample(req)).toEqual(local.sample(req));
    expect(runner.modelInfo.paramCount).toBe(local.table.totalSize);
  });

  it('concurrent sample requests are batched yet each equals its result alone', async () => {
    const local = Qwen3Model.random(config, 5);
    const reqs = [
      { prompt: [1, 2, 3, 4, 5], numSamples: 3, seed: 1 },
      { prompt: [60, 61], numSamples: 1, seed: 2 },
      { prompt: [7, 7, 7, 7, 7, 7, 7, 7, 7], numSamples: 2, seed: 3 },
    ].map(({ prompt, numSamples, seed }) => ({
      prompt,
      numSamples,
      params: { maxTokens: 9, temperature: 1, topP: 1, topK: -1, seed },
    }));
    const results = await Promise.all(reqs.map((r) => runner.sample(r)));
    expect(results).toEqual(reqs.map((r) => local.sample(r)));
  });

  it('an update queued between samples waits for the earlier ones and precedes the later', async () => {
    const r2 = await ModelRunner.start({
      source: { kind: 'random', hfConfig: toHfConfigJson(config), seed: 6 },
    });
    try {
      const local = Qwen3Model.random(config, 6);
      const req = {
        prompt: [3, 4, 5],
        numSamples: 2,
        params: { maxTokens: 6, temperature: 1, topP: 1, topK: -1, seed: 8 },
      };
      const data = [{ modelInput: [1, 2, 3, 4], targetTokens: [2, 3, 4, 5] }];
      const adam = {
        learningRate: 0.05,
        beta1: 0.9,
        beta2: 0.95,
        eps: 1e-8,
        weightDecay: 0,
        gradClipNorm: 1,
      };
      // All posted at once: sample, update, sample.
      const before = r2.sample(req);
      const fb = r2.forwardBackward(data, 'cross_entropy');
      const step = r2.optimStep(adam);
      const after = r2.sample(req);
      expect(await before).toEqual(local.sample(req));
      await fb;
      await step;
      local.forwardBackward(data, 'cross_entropy');
      local.optimStep(adam);
      expect(await after).toEqual(local.sample(req));
      expect(await after).not.toEqual(await before);
    } finally {
      await r2.close();
    }
  });

  it('worker errors arrive as the same error class with the message', async () => {
    const bad = runner.forward([{ modelInput: [1, 500], targetTokens: [2, 3] }], 'cross_entropy');
    await expect(bad).rejects.toBeInstanceOf(EngineError);
    await expect(bad).rejects.toThrow(/datum 0: modelInput\[1\] = 500/);
  });

  it('the main thread keeps ticking (setInterval) during a forwardBackward', async () => {
    // A long batch: enough work that a blocked main thread would miss many 10 ms ticks.
    const seq = Array.from({ length: 120 }, (_, i) => (i * 7) % 128);
    const data = Array.from({ length: 12 }, () => ({
      modelInput: seq.slice(0, -1),
      targetTokens: seq.slice(1),
    }));
    let ticks = 0;
    const timer = setInterval(() => ticks++, 10);
    const started = Date.now();
    await runner.forwardBackward(data, 'cross_entropy');
    await runner.call('spin', { ms: 200 });
    const elapsed = Date.now() - started;
    clearInterval(timer);
    // At least a third of the ticks a free main thread would get.
    expect(ticks).toBeGreaterThanOrEqual(Math.floor(elapsed / 10 / 3));
    expect(ticks).toBeGreaterThan(5);
  });
});
