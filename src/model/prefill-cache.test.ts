// Reusing a recent prefill gives exactly the tokens and logprobs of prefilling again, and the
// cache stays within its byte bound.
import { describe, expect, it } from 'vitest';
import type { SampleRequest } from '../core/policy-types.ts';
import { allocSampleCache, copyCachePrefix } from './decode.ts';
import { Qwen3Model } from './model.ts';
import { samplerContext, TINY_SAMPLER_CONFIG } from './testing/sampler-context.ts';
import { PrefillCache } from './prefill-cache.ts';
import { advanceSamples, sampleDone, sampleResult, startSample } from './sampler.ts';
import type { SamplerContext } from './sampler.ts';

const config = TINY_SAMPLER_CONFIG;
const context = samplerContext;

function run(ctx: SamplerContext, req: SampleRequest): ReturnType<typeof sampleResult> {
  const job = startSample(ctx, req);
  while (!sampleDone(job)) advanceSamples(ctx, [job]);
  return sampleResult(job);
}

const prompt = [5, 9, 14, 2, 77, 31, 8, 60, 61, 3];
const req = (seed: number, maxTokens = 9): SampleRequest => ({
  prompt,
  numSamples: 2,
  params: { maxTokens, temperature: 1, topP: 1, topK: -1, seed },
});

describe('prefill cache', () => {
  it('a request served from a kept prefill equals one that prefills', () => {
    const model = Qwen3Model.random(config, 11);
    const plain = context(model);
    const cache = new PrefillCache(config);
    const cached = context(model, cache);
    const first = run(cached, req(3));
    expect(cache.size).toBe(1);
    // a different reply budget allocates a different cache length: the copy must re-stride
    for (const r of [req(3), req(4), req(5, 20)]) {
      expect(run(cached, r)).toEqual(run(plain, r));
    }
    expect(first).toEqual(run(plain, req(3)));
    expect(cache.size).toBe(1);
    expect(cache.bytes).toBe((2 * config.numLayers * 2 * 16 * prompt.length + 97) * 4);
  });

  it('evicts the least recently used entry to stay within its bound', () => {
    const model = Qwen3Model.random(config, 12);
    const perEntry = (2 * config.numLayers * 2 * 16 * prompt.length + 97) * 4;
    const cache = new PrefillCache(config, 2 * perEntry);
    const ctx = context(model, cache);
    const ask = (p: number[]): SampleRequest => ({
      prompt: p,
      numSamples: 1,
      params: { maxTokens: 2, temperature: 0, topP: 1, topK: -1 },
    });
    const a = prompt;
    const b = prompt.map((t) => (t + 1) % 97);
    const c = prompt.map((t) => (t + 2) % 97);
    run(ctx, ask(a));
    run(ctx, ask(b));
    run(ctx, ask(a)); // a is now the most recently used
    run(ctx, ask(c));
    expect(cache.size).toBe(2);
    expect(cache.bytes).toBe(2 * perEntry);
    expect(cache.get(b)).toBeUndefined();
    expect(cache.get(a)).toBeDefined();
    expect(cache.get(c)).toBeDefined();
    // an entry larger than the bound is not kept at all
    const tiny = new PrefillCache(config, perEntry - 1);
    run(context(model, tiny), ask(a));
    expect(tiny.size).toBe(0);
  });

  it('copies a prefix between caches of different lengths', () => {
    const from = allocSampleCache(config, 7);
    from.k.forEach((k, l) => k.forEach((_, i) => (k[i] = l * 1000 + i)));
    from.v.forEach((v, l) => v.forEach((_, i) => (v[i] = -(l * 1000 + i))));
    const to = allocSampleCache(config, 12);
    copyCachePrefix(config, from, to, 5);
    const KD = config.numKvHeads * config.headDim;
    for (let l = 0; l < config.numLayers; l++) {
      for (let row = 0; row < KD; row++) {
        for (let t = 0; t < 12; t++) {
          expect(to.k[l][row * 12 + t]).toBe(t < 5 ? from.k[l][row * 7 + t] : 0);
        }
      }
      for (let g = 0; g < config.numKvHeads; g++) {
        for (let t = 0; t < 12; t++) {
          for (let d = 0; d < config.headDim; d++) {
            const got = to.v[l][g * 12 * 16 + t * 16 + d];
            expect(got).toBe(t < 5 ? from.v[l][g * 7 * 16 + t * 16 + d] : 0);
          }
        }
      }
    }
  });
});
