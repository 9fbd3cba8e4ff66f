/**
 * Sample requests in the model worker: a cancelled one stops before its next decode step and frees
 * its caches; under a KV ledger's budget, requests wait for memory and the youngest is preempted
 * (caches freed, recomputed later), every request still finishing in full within the budget.
 * Counted in tokens and bytes from the shared ledger, never in seconds.
 */
import { describe, expect, it } from 'vitest';
import type { SampleRequest } from '../core/policy-types.ts';
import { qwen3Config, toHfConfigJson } from './config.ts';
import { kvBytesPerPosition } from './decode.ts';
import { KvLedger } from './kv-ledger.ts';
import { Qwen3Model } from './model.ts';
import { ModelRunner } from './runner.ts';
import {
  advanceSamples,
  jobKvBytes,
  preemptSample,
  resumeSample,
  sampleDone,
  sampleResult,
  startSample,
} from './sampler.ts';
import { samplerContext, TINY_SAMPLER_CONFIG } from './testing/sampler-context.ts';

const config = qwen3Config({
  hidden_size: 64,
  intermediate_size: 128,
  vocab_size: 128,
  head_dim: 16,
});
const source = { kind: 'random' as const, hfConfig: toHfConfigJson(config), seed: 5 };
const perPosition = kvBytesPerPosition(config);

function request(maxTokens: number, numSamples: number, seed: number): SampleRequest {
  return {
    prompt: [1, 2, 3],
    numSamples,
    params: { maxTokens, temperature: 1, topP: 1, topK: -1, seed },
  };
}

const tick = (): Promise<void> => new Promise((r) => setTimeout(r, 5));
// Each test starts a worker: seconds on a quiet machine, a minute on a loaded one.

describe('cancelling a sample in the worker', () => {
  it('stops a decoding request before its next step and frees its caches', async () => {
    const runner = await ModelRunner.start({ source });
    try {
      const ctl = new AbortController();
      const long = runner.sample(request(3000, 4, 1), ctl.signal).catch((e: unknown) => e);
      for (let i = 0; i < 4000 && runner.ledger.snapshot().tokensGenerated < 40; i++) await tick();
      expect(runner.ledger.snapshot().tokensGenerated).toBeGreaterThanOrEqual(40);
      const atAbort = runner.ledger.snapshot().tokensGenerated;
      ctl.abort(new Error('client gone'));
      expect(await long).toMatchObject({ message: 'client gone' });
      // The worker reads messages in order: once a later request is answered, the cancel was read.
      const short = await runner.sample(request(1, 1, 2));
      expect(short.sequences[0].tokens).toHaveLength(1);
      const after = runner.ledger.snapshot();
      expect(after.requestsCancelled).toBe(1);
      expect(after.inUseBytes).toBe(0);
      // At most the decode steps under way when the cancel was posted (4 rows each), plus 1 token.
      expect(after.tokensGenerated - atAbort).toBeLessThanOrEqual(2 * 4 + 1);
    } finally {
      await runner.close();
    }
  }, 300_000);

  it('drops a request still waiting for memory: it never generates a token', async () => {
    // Room for one request's first caches (prompt + 64 positions), not two.
    const ledger = KvLedger.create(100 * perPosition);
    const runner = await ModelRunner.start({ source, ledger });
    try {
      const first = runner.sample(request(90, 1, 1));
      const ctl = new AbortController();
      const waiting = runner.sample(request(90, 1, 2), ctl.signal).catch((e: unknown) => e);
      ctl.abort(new Error('gone'));
      expect(await waiting).toMatchObject({ message: 'gone' });
      expect((await first).sequences[0].tokens).toHaveLength(90);
      const s = ledger.snapshot();
      expect(s.tokensGenerated).toBe(90);
      expect(s.requestsCancelled).toBe(1);
      expect(s.inUseBytes).toBe(0);
    } finally {
      await runner.close();
    }
  }, 300_000);
});

describe('the KV budget in the worker', () => {
  it('runs many long requests within the budget: they wait, are preempted, and all finish in full', async () => {
    // Each request may reach 403 positions; the budget holds 1,000, the eight together 3,224.
    const budget = 1000 * perPosition;
    const ledger = KvLedger.create(budget);
    const runner = await ModelRunner.start({ source, ledger });
    try {
      const results = await Promise.all(
        Array.from({ length: 8 }, (_, i) => runner.sample(request(400, 1, i))),
      );
      for (const r of results) expect(r.sequences[0].tokens).toHaveLength(400);
      const s = ledger.snapshot();
      expect(s.peakBytes).toBeLessThanOrEqual(budget);
      expect(s.peakBytes).toBeGreaterThan(budget / 2);
      expect(s.preemptions).toBeGreaterThan(0);
      expect(s.inUseBytes).toBe(0);
      expect(s.tokensGenerated).toBeGreaterThanOrEqual(8 * 400);
    } finally {
      await runner.close();
    }
  }, 300_000);

  it('a preempted request resumes from its tokens and random streams: greedy tokens are unchanged', () => {
    const m = Qwen3Model.random(TINY_SAMPLER_CONFIG, 3);
    const req: SampleRequest = {
      prompt: [5, 9, 2, 7],
      numSamples: 2,
      params: { maxTokens: 40, temperature: 0, topP: 1, topK: -1, seed: 4 },
    };
    const whole = startSample(samplerContext(m), req);
    while (!sampleDone(whole)) advanceSamples(samplerContext(m), [whole]);

    const ctx = samplerContext(m);
    const job = startSample(ctx, req);
    for (let i = 0; i < 17; i++) advanceSamples(ctx, [job]);
    preemptSample(job);
    expect(jobKvBytes(m.config, job)).toBe(0);
    resumeSample(ctx, job);
    expect(jobKvBytes(m.config, job)).toBeGreaterThan(0);
    while (!sampleDone(job)) advanceSamples(ctx, [job]);
    const a = sampleResult(whole);
    const b = sampleResult(job);
    for (let s = 0; s < 2; s++) {
      expect(b.sequences[s].tokens).toEqual(a.sequences[s].tokens);
      b.sequences[s].logprobs.forEach((lp, i) =>
        expect(lp).toBeCloseTo(a.sequences[s].logprobs[i], 4),
      );
    }
  });
});
