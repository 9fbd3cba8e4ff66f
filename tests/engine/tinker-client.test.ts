/**
 * TinkerEngine features beyond the conformance suite, against an in-process `spell serve`:
 * server-difference options, heartbeats, versioned sampler handles, multi-token stop sequences.
 */
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { TinkerEngine } from '../../src/engine/tinker/index.ts';
import { TinkerHttp } from '../../src/engine/tinker/http.ts';
import { TinkerSession } from '../../src/engine/tinker/session.ts';
import { localProvider, startServer, type SpellServer } from '../../src/serve/index.ts';
import { ADAM, BATCH, SAMPLING } from './conformance.ts';
import { makeTinyModel } from './fixtures.ts';

const model = makeTinyModel();
let server: SpellServer;

beforeAll(async () => {
  const { provider } = localProvider({
    modelDir: model.modelDir,
    checkpointDir: model.checkpointDir,
  });
  server = await startServer({ provider, port: 0, longPollMs: 500 });
});

afterAll(async () => {
  await server.close();
  model.remove();
});

describe('TinkerEngine', () => {
  test('spell serve is detected as hosted-style (sum); SkyRL semantics can be forced', async () => {
    const e = await TinkerEngine.connect({
      baseUrl: server.url,
      baseModel: 'tiny',
      heartbeatMs: 0,
    });
    expect(e.serverKind).toBe('hosted');
    expect((await e.info()).lossAggregation).toBe('sum');
    expect((await e.info()).maxContext).toBe(512);
    await e.forwardBackward(BATCH, 'cross_entropy');
    expect((await e.optimStep(ADAM)).metrics['warning/grad_clip_norm_ignored']).toBeUndefined();
    await e.close();
    const forced = await TinkerEngine.connect({
      baseUrl: server.url,
      baseModel: 'tiny',
      heartbeatMs: 0,
      lossAggregation: 'sequence-token-mean',
      ignoresGradClip: true,
    });
    expect((await forced.info()).lossAggregation).toBe('sequence-token-mean');
    await forced.forwardBackward(BATCH, 'cross_entropy');
    expect((await forced.optimStep(ADAM)).metrics['warning/grad_clip_norm_ignored']).toBe(1);
    await forced.close();
  });

  test('each refreshSampler yields a new versioned sampler handle', async () => {
    const e = await TinkerEngine.connect({
      baseUrl: server.url,
      baseModel: 'tiny',
      heartbeatMs: 0,
    });
    await e.sample({ prompt: [1, 2], numSamples: 1, params: SAMPLING });
    const base = e.samplerHandle!;
    await e.refreshSampler();
    const first = e.samplerHandle!;
    await e.refreshSampler();
    const second = e.samplerHandle!;
    expect(new Set([base.id, first.id, second.id]).size).toBe(3);
    expect([base.version, first.version, second.version]).toEqual([1, 2, 3]);
    await e.close();
  });

  test('a multi-token stop sequence is applied by the client and kept in the tokens', async () => {
    const e = await TinkerEngine.connect({
      baseUrl: server.url,
      baseModel: 'tiny',
      heartbeatMs: 0,
    });
    const greedy = { ...SAMPLING, temperature: 0, maxTokens: 6 };
    const free = (await e.sample({ prompt: [1, 2, 3], numSamples: 1, params: greedy }))
      .sequences[0];
    const stop = free.tokens.slice(2, 4);
    const cut = (
      await e.sample({
        prompt: [1, 2, 3],
        numSamples: 1,
        params: { ...greedy, stopSequences: [stop] },
      })
    ).sequences[0];
    const at = free.tokens.findIndex((t, i) => t === stop[0] && free.tokens[i + 1] === stop[1]);
    expect(cut.tokens).toEqual(free.tokens.slice(0, at + 2));
    expect(cut.stopReason).toBe('stop');
    await e.close();
  });

  test('heartbeats succeed for a live session and are recorded as failures for an unknown one', async () => {
    const http = new TinkerHttp({ baseUrl: server.url, maxRetries: 0 });
    const session = await TinkerSession.open(http, ['test'], 0);
    await session.beat();
    expect(session.failedBeats).toBe(0);
    const ghost = TinkerSession.attach(http, 'session-ghost', 0);
    await ghost.beat();
    expect(ghost.failedBeats).toBe(1);
    expect(ghost.lastBeatError).toMatch(/HTTP 404: unknown session_id 'session-ghost'/);
    session.close();
  });
});
