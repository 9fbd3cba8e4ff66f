/**
 * The fault suite: TinkerEngine → a misbehaving proxy → `spell serve` (in-process, on loopback).
 * The client must recover from 5xx, 408/410 on futures, slow answers, dropped connections and
 * truncated bodies — and never apply an update twice (the server's counters and the resulting
 * weights must match a clean run) — or fail with a clear RemoteEngineError.
 */
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { RemoteEngineError } from '../../src/core/errors.ts';
import { TinkerEngine, type TinkerEngineOptions } from '../../src/engine/tinker/index.ts';
import type { PolicyEngine } from '../../src/engine/types.ts';
import { localProvider, startServer, type SpellServer } from '../../src/serve/index.ts';
import { ADAM, BATCH, RL_BATCH } from './conformance.ts';
import { FaultProxy } from './fault-proxy.ts';
import { makeTinyModel } from './fixtures.ts';

const model = makeTinyModel();
let server: SpellServer;
let proxy: FaultProxy;
let proxyUrl: string;

beforeAll(async () => {
  const { provider } = localProvider({
    modelDir: model.modelDir,
    checkpointDir: model.checkpointDir,
  });
  server = await startServer({ provider, port: 0, longPollMs: 300 });
  proxy = new FaultProxy(server.url, 2_500);
  proxyUrl = await proxy.start();
});

afterAll(async () => {
  await proxy.close();
  await server.close();
  model.remove();
});

const clientOpts = (baseUrl: string): TinkerEngineOptions => ({
  baseUrl,
  baseModel: 'tiny',
  heartbeatMs: 0,
  timeoutMs: 1_500,
  maxRetries: 5,
  backoffBaseMs: 20,
  backoffMaxMs: 200,
});

/** Two training steps and a final forward; returns the final logprobs. */
async function twoSteps(e: PolicyEngine): Promise<number[][]> {
  for (let step = 0; step < 2; step++) {
    await e.forwardBackward(BATCH, 'cross_entropy');
    await e.forwardBackward(RL_BATCH, 'importance_sampling');
    await e.optimStep(ADAM);
  }
  return (await e.forward(BATCH, 'cross_entropy')).logprobs;
}

describe('TinkerEngine through a misbehaving proxy', () => {
  test('recovers from every fault kind and applies each update exactly once', async () => {
    const clean = await TinkerEngine.connect(clientOpts(server.url));
    const expected = await twoSteps(clean);
    await clean.close();

    proxy.inject('/api/v1/create_model', 'status-500', 'drop-after');
    proxy.inject(
      '/api/v1/forward_backward',
      'drop-after',
      'pass',
      'truncate-after',
      'pass',
      'slow-after',
    );
    proxy.inject(
      '/api/v1/optim_step',
      'truncate-after',
      'pass',
      'drop-after',
      'status-503-retry-after',
    );
    proxy.inject(
      '/api/v1/retrieve_future',
      'status-408',
      'status-410',
      'status-500',
      'pass',
      'status-408',
      'drop-before',
    );
    const e = await TinkerEngine.connect(clientOpts(proxyUrl));
    const got = await twoSteps(e);
    const counters = server.service.counters(e.currentModelId);
    await e.close();

    expect(got).toEqual(expected);
    expect(counters).toMatchObject({ forwardBackward: 4, optimStep: 2, forward: 1 });
    expect(e.http.stats.retries).toBeGreaterThanOrEqual(8);
    for (const kind of [
      'drop-after',
      'truncate-after',
      'slow-after',
      'status-410',
      'status-408',
      'status-503-retry-after',
    ]) {
      expect(proxy.fired.some((f) => f.endsWith(kind))).toBe(true);
    }
  });

  test('a pipelined forwardBackward + optimStep keeps seq_id order through retries', async () => {
    const e = await TinkerEngine.connect(clientOpts(proxyUrl));
    proxy.inject('/api/v1/forward_backward', 'drop-after');
    const [fb, step] = await Promise.all([
      e.forwardBackward(BATCH, 'cross_entropy'),
      e.optimStep(ADAM),
    ]);
    expect(fb.logprobs).toHaveLength(BATCH.length);
    expect(step.metrics.grad_norm).toBeGreaterThan(0);
    expect(server.service.counters(e.currentModelId)).toMatchObject({
      forwardBackward: 1,
      optimStep: 1,
    });
    await e.close();
  });

  test('a server that keeps failing gives a clear RemoteEngineError, and nothing was applied', async () => {
    const e = await TinkerEngine.connect(clientOpts(proxyUrl));
    proxy.inject('/api/v1/optim_step', ...Array<'status-500'>(6).fill('status-500'));
    const err = await e.optimStep(ADAM).catch((x: unknown) => x);
    expect(err).toBeInstanceOf(RemoteEngineError);
    expect((err as RemoteEngineError).message).toMatch(
      /optim_step failed after 6 attempts; last problem: HTTP 500: injected server error/,
    );
    expect((err as RemoteEngineError).status).toBe(500);
    expect(server.service.counters(e.currentModelId)?.optimStep).toBe(0);
    // The seq_id stream now has a gap, so the engine refuses to go on rather than stall the model.
    await expect(e.forwardBackward(BATCH, 'cross_entropy')).rejects.toThrow(
      /seq_id stream has a gap/,
    );
    await e.close();
  });

  test('polls that outlast the client wait are "still pending", beyond the retry budget', async () => {
    // SkyRL tx holds retrieve_future for up to 300 s (the SDK's poll waits 45 s, then polls again):
    // a poll that times out on our side is a pending future, not a failure to retry and give up on.
    const e = await TinkerEngine.connect({
      ...clientOpts(proxyUrl),
      futures: { pollTimeoutMs: 300 },
    });
    proxy.inject('/api/v1/retrieve_future', ...Array<'slow-after'>(8).fill('slow-after'));
    const step = await e.optimStep(ADAM);
    expect(step.metrics).toBeDefined();
    expect(proxy.fired.filter((f) => f.endsWith('retrieve_future slow-after'))).toHaveLength(8);
    expect(server.service.counters(e.currentModelId)?.optimStep).toBe(1);
    await e.close();
  });

  test('a request the server rejects comes back as a user error naming the problem', async () => {
    const e = await TinkerEngine.connect(clientOpts(proxyUrl));
    const bad = [{ modelInput: [1, 2], targetTokens: [2, 999], weights: [1, 1] }];
    await expect(e.forwardBackward(bad, 'cross_entropy')).rejects.toThrow(
      /failed on the server \(user error\).*999/,
    );
    // A failed request still consumed its seq_id, so the model goes on.
    const ok = await e.forward(BATCH, 'cross_entropy');
    expect(ok.logprobs).toHaveLength(2);
    await e.close();
  });

  test('an unreachable server fails fast with a connection error after the retries', async () => {
    const err = await TinkerEngine.connect({
      ...clientOpts('http://127.0.0.1:9'),
      maxRetries: 1,
    }).catch((x: unknown) => x);
    expect(err).toBeInstanceOf(RemoteEngineError);
    expect((err as Error).message).toMatch(
      /failed after 2 attempts; last problem: connection error/,
    );
  });
});
