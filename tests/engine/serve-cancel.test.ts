/**
 * `spell serve` stops sampling nobody will read (issue 25), and keeps many long requests within its
 * KV budget: a real server on 127.0.0.1 with the bundled model, measured by its `/stats` counters
 * (tokens generated, requests cancelled, KV bytes held), never by seconds.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { localProvider, startServer, type SpellServer } from '../../src/serve/index.ts';
import { serveClient, type ServeClient } from './serve-client.ts';

const MODEL = fileURLToPath(new URL('../../assets/model/', import.meta.url));
const root = mkdtempSync(join(tmpdir(), 'spell-cancel-'));
/** KV bytes of one token position of the bundled model (4 layers × 2 × 2 kv heads × 32 × 4 B). */
const PER_POSITION = 2048;
/** Room for 512 positions: one 400-token sample fits, eight together do not. */
const BUDGET = 512 * PER_POSITION;

let server: SpellServer;
const { raw, post, result, session, stats } = serveClient(() => server.url);
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

beforeAll(async () => {
  const { provider, extraRoutes } = localProvider({
    modelDir: MODEL,
    checkpointDir: join(root, 'checkpoints'),
  });
  server = await startServer({
    provider,
    port: 0,
    longPollMs: 200,
    ...(extraRoutes ? { extraRoutes } : {}),
  });
}, 300_000);

afterAll(async () => {
  await server.close();
  rmSync(root, { recursive: true, force: true });
});

/** Wait (bounded) until `ok(stats)` holds; returns those stats. */
async function until(ok: (s: Record<string, number>) => boolean): Promise<Record<string, number>> {
  for (let i = 0; i < 3000; i++) {
    const s = await stats();
    if (ok(s)) return s;
    await sleep(20);
  }
  throw new Error(`server stats never met the condition: ${JSON.stringify(await stats())}`);
}

/** 4 samples × up to 3,000 tokens (the random model's end-of-turn tokens may stop some sooner). */
const LONG = { n: 4, max_tokens: 3000, temperature: 1 };

describe('a client that goes away stops its sample', () => {
  for (const route of ['/v1/chat/completions', '/v1/completions'] as const) {
    for (const stream of [false, true]) {
      test(`${route}${stream ? ' (streaming)' : ''}: hung up mid-decode`, async () => {
        const before = await stats();
        const ctl = new AbortController();
        const body =
          route === '/v1/chat/completions'
            ? { messages: [{ role: 'user', content: 'tell me a story' }], ...LONG, stream }
            : { prompt: [5, 6, 7], ...LONG, stream };
        const long = raw(route, {
          body: JSON.stringify(body),
          headers: { 'content-type': 'application/json' },
          signal: ctl.signal,
        }).catch((e: unknown) => e);
        await until((s) => s.tokens_generated - before.tokens_generated >= 16);
        const atAbort = (await stats()).tokens_generated;
        ctl.abort();
        expect(await long).toBeInstanceOf(Error);
        const cancelled = await until((s) => s.requests_cancelled > before.requests_cancelled);
        expect(cancelled.requests_cancelled).toBe(before.requests_cancelled + 1);
        expect(cancelled.kv_in_use_bytes).toBe(0);
        // A few decode steps of 4 rows may run while the hang-up travels; not the request's rest.
        expect(cancelled.tokens_generated - atAbort).toBeLessThan(200);
        const settled = await stats();
        expect(settled.tokens_generated).toBe(cancelled.tokens_generated);
        // The server is free: a short request is answered, and nothing else was computed.
        const short = await post('/v1/completions', { prompt: [5, 6], max_tokens: 1 });
        expect(short.status).toBe(200);
        const after = await stats();
        expect(after.tokens_generated).toBe(settled.tokens_generated + 1);
        expect(after.kv_admitted_worst_case_bytes).toBe(0);
      }, 300_000);
    }
  }
});

describe('Tinker futures stop when their owner goes away', () => {
  test('finishing the session cancels its running asample; the future reports why', async () => {
    const before = await stats();
    const s = await session();
    const ss = await post('/api/v1/create_sampling_session', {
      session_id: s,
      sampling_session_seq_id: 0,
      base_model: 'model',
    });
    expect(ss.status).toBe(200);
    const a = await post('/api/v1/asample', {
      sampling_session_id: ss.json.sampling_session_id,
      prompt: { chunks: [{ type: 'encoded_text', tokens: [5, 6, 7] }] },
      num_samples: 4,
      sampling_params: { max_tokens: 3000, temperature: 1 },
    });
    expect(a.status).toBe(200);
    await until((st) => st.tokens_generated - before.tokens_generated >= 16);
    const fin = await post(`/api/v1/sessions/${s}/finish`, {
      reason: { type: 'success' },
      detail: null,
    });
    expect(fin.status).toBe(200);
    const failed = await result(a.json.request_id);
    expect(failed.error).toMatch(/session .* has finished/);
    const after = await until((st) => st.requests_cancelled > before.requests_cancelled);
    expect(after.kv_in_use_bytes).toBe(0);
    expect(after.tokens_generated - before.tokens_generated).toBeLessThan(4 * 3000);
  }, 300_000);

  test('unloading the training model cancels the asample of its sampling session; the idle sweep leaves a sampling model alone', async () => {
    const before = await stats();
    const s = await session();
    const created = await post('/api/v1/create_model', {
      session_id: s,
      model_seq_id: 0,
      base_model: 'model',
      lora_config: { rank: 4 },
    });
    const modelId = (await result(created.json.request_id)).model_id as string;
    const saved = await post('/api/v1/save_weights_for_sampler', {
      model_id: modelId,
      seq_id: 1,
      sampling_session_seq_id: 0,
    });
    const samplerId = (await result(saved.json.request_id)).sampling_session_id as string;
    const ask = (maxTokens: number) =>
      post('/api/v1/asample', {
        sampling_session_id: samplerId,
        prompt: { chunks: [{ type: 'encoded_text', tokens: [5, 6, 7] }] },
        num_samples: 4,
        sampling_params: { max_tokens: maxTokens, temperature: 1 },
      });
    const a = await ask(3000);
    expect(a.status).toBe(200);
    await until((st) => st.tokens_generated - before.tokens_generated >= 16);
    // The session never sent a heartbeat, yet a day later by the sweep's clock the model is kept:
    // only a model with nothing queued or running is idle.
    expect(await server.service.unloadIdle(Date.now() + 24 * 3_600_000)).toBe(0);
    const unloaded = await post('/api/v1/unload_model', { model_id: modelId });
    expect(unloaded.status).toBe(200);
    const failed = await result(a.json.request_id);
    expect(failed.error).toBe(`model ${modelId} was unloaded`);
    expect((await result(unloaded.json.request_id)).type).toBe('unload_model');
    const after = await until((st) => st.requests_cancelled > before.requests_cancelled);
    expect(after.requests_cancelled).toBe(before.requests_cancelled + 1);
    expect(after.kv_in_use_bytes).toBe(0);
    expect(after.tokens_generated - before.tokens_generated).toBeLessThan(4 * 3000);
    expect(after.engines).toBe(1);
    // The sampling session outlives its model only to say why it cannot sample.
    const again = await ask(2);
    const answer = again.status === 200 ? await result(again.json.request_id) : again.json;
    expect(JSON.stringify(answer)).toMatch(/was unloaded/);
  }, 300_000);
});

describe('the KV budget admits by what caches hold', () => {
  test('eight 400-token samples under a budget for 512 positions all finish in full, within it', async () => {
    const { provider } = localProvider({ modelDir: MODEL, checkpointDir: join(root, 'small') });
    const small = await startServer({
      provider,
      port: 0,
      longPollMs: 200,
      limits: { kvBudgetBytes: BUDGET, kvOvercommit: 7 },
    });
    try {
      await admitsByUse(serveClient(() => small.url));
    } finally {
      await small.close();
    }
  }, 300_000);
});

/** Nine 400-token samples against a budget for 512 positions and an over-commit of 7 (room for 3,584). */
async function admitsByUse(client: ServeClient): Promise<void> {
  const { post, result, stats } = client;
  const before = await stats();
  const ask = (seed: number) =>
    post('/api/v1/asample', {
      base_model: 'model',
      prompt: { chunks: [{ type: 'encoded_text', tokens: [5, 6, 7] }] },
      num_samples: 1,
      sampling_params: { max_tokens: 400, temperature: 1, seed },
    });
  // Worst cases: 8 × 403 positions fit 7 × 512, 9 × 403 do not: the ninth is a 429.
  const answers = await Promise.all(Array.from({ length: 9 }, (_, i) => ask(i)));
  const statuses = answers.map((r) => r.status).sort();
  expect(statuses).toEqual([200, 200, 200, 200, 200, 200, 200, 200, 429]);
  expect(answers.find((r) => r.status === 429)?.json.detail).toMatch(
    /admits up to 7 × its 1\.0 MiB KV budget \(--kv-budget-mb, --kv-overcommit\)/,
  );
  const results = await Promise.all(
    answers.filter((r) => r.status === 200).map((r) => result(r.json.request_id)),
  );
  for (const r of results) expect(r.sequences[0].tokens).toHaveLength(400);
  const after = await stats();
  expect(after.kv_peak_bytes).toBeLessThanOrEqual(BUDGET);
  expect(after.preemptions).toBeGreaterThan(before.preemptions);
  expect(after.kv_in_use_bytes).toBe(0);
  expect(after.kv_admitted_worst_case_bytes).toBe(0);
}
