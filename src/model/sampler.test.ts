// Batched sampling: requests decoded together (different prompts, lengths, sample counts, stop
// rules, started at different steps) produce exactly the tokens and logprobs each produces alone.
import { describe, expect, it } from 'vitest';
import type { SampleRequest } from '../core/policy-types.ts';
import { Qwen3Model } from './model.ts';
import { kvBytesPerPosition } from './decode.ts';
import { samplerContext, TINY_SAMPLER_CONFIG } from './testing/sampler-context.ts';
import { advanceSamples, jobKvBytes, sampleDone, sampleResult, startSample } from './sampler.ts';
import type { SampleJob } from './sampler.ts';

const config = TINY_SAMPLER_CONFIG;
const context = samplerContext;

const params = { maxTokens: 12, temperature: 1, topP: 1, topK: -1 };
const REQUESTS: SampleRequest[] = [
  { prompt: [1, 2, 3], numSamples: 3, params: { ...params, seed: 4 } },
  { prompt: [9, 8, 7, 6, 5, 4, 3, 2, 1, 50, 60], numSamples: 1, params: { ...params, seed: 4 } },
  {
    prompt: [40, 41],
    numSamples: 5,
    params: { ...params, maxTokens: 7, topK: 20, topP: 0.9, seed: 12 },
  },
  { prompt: [7], numSamples: 2, params: { ...params, temperature: 0, stopTokenIds: [3, 5, 8] } },
  { prompt: [11, 12, 13, 14], numSamples: 4, params: { ...params, maxTokens: 1, seed: 1 } },
];

describe('batched sampling', () => {
  it('each request gets the same tokens and logprobs as when it runs alone', () => {
    const model = Qwen3Model.random(config, 3);
    const alone = REQUESTS.map((r) => model.sample(r));
    const ctx = context(model);
    // Start two requests, decode a few steps, then let the others join mid-flight.
    const jobs: SampleJob[] = [startSample(ctx, REQUESTS[0]), startSample(ctx, REQUESTS[1])];
    for (let i = 0; i < 3; i++) advanceSamples(ctx, jobs);
    for (const r of REQUESTS.slice(2)) jobs.push(startSample(ctx, r));
    let steps = 0;
    while (!jobs.every(sampleDone)) {
      advanceSamples(ctx, jobs);
      steps++;
    }
    expect(steps).toBeGreaterThan(0);
    expect(jobs.map(sampleResult)).toEqual(alone);
  });

  it('a request of maxTokens 0 is done at once with empty length-stopped sequences', () => {
    const model = Qwen3Model.random(config, 3);
    const job = startSample(context(model), {
      prompt: [1, 2],
      numSamples: 2,
      params: { ...params, maxTokens: 0 },
    });
    expect(sampleDone(job)).toBe(true);
    expect(sampleResult(job).sequences).toEqual([
      { tokens: [], logprobs: [], stopReason: 'length' },
      { tokens: [], logprobs: [], stopReason: 'length' },
    ]);
  });

  it('KV caches start small, grow as decoding goes on, and give the full forward’s tokens', () => {
    const model = Qwen3Model.random(config, 5);
    const ctx = context(model);
    const prompt = [3, 1, 4, 1, 5];
    const P = prompt.length;
    const job = startSample(ctx, {
      prompt,
      numSamples: 2,
      params: { ...params, maxTokens: 150, temperature: 0 },
    });
    // Room for the prompt and 64 generated tokens, not for the 150 the request may use.
    expect(job.caches.map((k) => [k.len, k.max])).toEqual([
      [P + 64, P + 150],
      [P + 64, P + 150],
    ]);
    const lens = new Set<number>();
    while (!sampleDone(job)) {
      advanceSamples(ctx, [job]);
      // A finished sample frees its cache at once (length 0).
      if (job.caches[0].len > 0) lens.add(job.caches[0].len);
    }
    // Each growth adds half (69 → 104), the last one stops at the cap (P + 150).
    expect([...lens]).toEqual([P + 64, 104, P + 150]);
    expect(job.caches.map((k) => k.len)).toEqual([0, 0]);
    // Greedy tokens through the grown caches equal the argmax of one forward over the sequence.
    const seq = sampleResult(job).sequences[0];
    expect(seq.tokens).toHaveLength(150);
    const V = config.vocabSize;
    const logits = model.logits([...prompt, ...seq.tokens.slice(0, -1)]);
    seq.tokens.forEach((tok, i) => {
      const row = logits.subarray((P - 1 + i) * V, (P + i) * V);
      expect(row.indexOf(Math.max(...row))).toBe(tok);
    });
  });

  it('a sample holds KV for its prompt and 64 tokens, not its whole cap, and frees it when it stops', () => {
    const model = Qwen3Model.random(config, 5);
    const ctx = context(model);
    const perPosition = kvBytesPerPosition(config);
    const long = startSample(ctx, {
      prompt: [1, 2, 3],
      numSamples: 8,
      params: { ...params, maxTokens: 4000 },
    });
    const live = long.active.length;
    expect(live).toBeGreaterThan(0);
    expect(jobKvBytes(config, long)).toBe(live * (3 + 64) * perPosition);
    const stops = startSample(ctx, {
      prompt: [1, 2, 3],
      numSamples: 8,
      // Every token stops: one token each, out of a cap of 4,000.
      params: {
        ...params,
        maxTokens: 4000,
        stopTokenIds: Array.from({ length: config.vocabSize }, (_, i) => i),
      },
    });
    expect(sampleDone(stops)).toBe(true);
    expect(jobKvBytes(config, stops)).toBe(0);
    expect(sampleResult(stops).sequences.every((q) => q.tokens.length === 1)).toBe(true);
  });
});
