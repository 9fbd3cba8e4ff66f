/**
 * `spell serve` against hostile input and faults (issue 25), in-process on a free loopback port with
 * the bundled model (checkpoints in a temporary folder): size refusal before tokenizing and
 * tokenization off the main thread, the KV budget, re-saved and failed sampler checkpoints, busy
 * ports, the engine cap, browser-page requests, and the small holes (nested JSON, bad
 * percent-encoding, unsupported OpenAI parameters, paths in error bodies).
 */
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { ConfigurationError } from '../../src/core/errors.ts';
import type { PolicyEngine } from '../../src/engine/types.ts';
import { wire } from '../../src/engine/tinker/index.ts';
import { localProvider, startServer, type SpellServer } from '../../src/serve/index.ts';
import { defaultCheckpointDir } from '../../src/serve/local-provider.ts';
import type { EngineProvider } from '../../src/serve/tinker-service.ts';
import { serveClient, type Answer } from './serve-client.ts';

const MODEL = fileURLToPath(new URL('../../assets/model/', import.meta.url));
const root = mkdtempSync(join(tmpdir(), 'spell-hostile-'));
const checkpointDir = join(root, 'checkpoints');

/** The bundled model's provider, counting engines that are open. */
function countingProvider(): {
  provider: EngineProvider;
  open: () => number;
  created: () => number;
} {
  const { provider } = localProvider({ modelDir: MODEL, checkpointDir });
  let open = 0;
  let created = 0;
  return {
    provider: {
      modelName: provider.modelName,
      ...(provider.kvBytesPerToken !== undefined
        ? { kvBytesPerToken: provider.kvBytesPerToken }
        : {}),
      create: async (opts): Promise<PolicyEngine> => {
        created++;
        const e = await provider.create(opts);
        open++;
        const close = e.close.bind(e);
        let closed = false;
        e.close = async () => {
          if (!closed) open--;
          closed = true;
          await close();
        };
        return e;
      },
    },
    open: () => open,
    created: () => created,
  };
}

let server: SpellServer;
const counting = countingProvider();

beforeAll(async () => {
  const { extraRoutes } = localProvider({ modelDir: MODEL, checkpointDir });
  server = await startServer({
    provider: counting.provider,
    port: 0,
    longPollMs: 200,
    maxBodyBytes: 4 * 1024 * 1024,
    limits: { maxEngines: 4, kvBudgetBytes: 64 * 1024 * 1024 },
    ...(extraRoutes ? { extraRoutes } : {}),
  });
});

afterAll(async () => {
  await server.close();
  rmSync(root, { recursive: true, force: true });
});

const { raw, post, result, session } = serveClient(() => server.url);

async function newModel(sessionId: string, seq: number): Promise<Answer> {
  return post('/api/v1/create_model', {
    session_id: sessionId,
    model_seq_id: seq,
    base_model: 'model',
    lora_config: { rank: 4 },
  });
}

const prompt = { chunks: [{ type: 'encoded_text', tokens: [5, 6, 7] }] };

describe('item 1: large prompts', () => {
  test('a chat message too long for the context by its length alone is refused without tokenizing', async () => {
    const r = await post('/v1/chat/completions', {
      messages: [{ role: 'user', content: 'x'.repeat(300_000) }],
      max_tokens: 1,
    });
    expect(r.status).toBe(400);
    expect(r.json.detail).toMatch(
      /cannot fit the context length of 4096 tokens \(refused without tokenizing/,
    );
  });

  test('a long /tokenize runs off the main thread: health and detokenize answer before it finishes', async () => {
    const order: string[] = [];
    const long = post('/tokenize', { prompt: 'word '.repeat(60_000) }).then((r) => {
      order.push('tokenize');
      return r;
    });
    await new Promise((r) => setTimeout(r, 100));
    await raw('/health').then(() => order.push('health'));
    await post('/detokenize', { tokens: [5, 6] }).then(() => order.push('detokenize'));
    const r = await long;
    expect(r.status).toBe(200);
    expect(r.json.count).toBeGreaterThan(1000);
    expect(order).toEqual(['health', 'detokenize', 'tokenize']);
  });
});

describe('item 2: KV budget', () => {
  test('asample of 1024 samples × 4095 tokens is refused with the budget named, before any memory is taken', async () => {
    const r = await post('/api/v1/asample', {
      base_model: 'model',
      prompt,
      num_samples: 1024,
      sampling_params: { max_tokens: 4095 },
    });
    expect(r.status).toBe(400);
    expect(r.json.detail).toMatch(
      /needs up to 8\d{3}\.\d MiB of KV cache .* KV budget of 64\.0 MiB \(--kv-budget-mb\)/,
    );
    expect(server.service.kv.inUseBytes).toBe(0);
  });

  test('a chat completion with n × max_tokens beyond the budget is refused too', async () => {
    const r = await post('/v1/chat/completions', {
      messages: [{ role: 'user', content: 'hi' }],
      n: 64,
      max_tokens: 4000,
    });
    expect(r.status).toBe(400);
    expect(r.json.detail).toMatch(/KV budget/);
  });
});

describe('item 4: sampler checkpoints by path', () => {
  test('re-saving a named sampler checkpoint serves the new weights; the old session is refused', async () => {
    const s = await session();
    const m = await newModel(s, 0);
    const modelId = (await result(m.json.request_id)).model_id as string;
    const save = async (seq: number): Promise<string> => {
      const r = await post('/api/v1/save_weights_for_sampler', {
        model_id: modelId,
        seq_id: seq,
        path: 'named',
      });
      return (await result(r.json.request_id)).path as string;
    };
    const sampleVia = async (sessionSeq: number, path: string): Promise<number[]> => {
      const ss = await post('/api/v1/create_sampling_session', {
        session_id: s,
        sampling_session_seq_id: sessionSeq,
        model_path: path,
      });
      expect(ss.status).toBe(200);
      const r = await post('/api/v1/asample', {
        sampling_session_id: ss.json.sampling_session_id,
        prompt,
        sampling_params: { max_tokens: 8, seed: 7, temperature: 1 },
      });
      return (await result(r.json.request_id)).sequences[0].tokens as number[];
    };
    const path = await save(1);
    const before = await sampleVia(1, path);
    // Move the weights far: a big step on a cross-entropy loss.
    const fb = await post('/api/v1/forward_backward', {
      model_id: modelId,
      seq_id: 2,
      forward_backward_input: {
        loss_fn: 'cross_entropy',
        data: [
          wire.encodeDatum({
            modelInput: [5, 6, 7, 8],
            targetTokens: [6, 7, 8, 9],
            weights: [1, 1, 1, 1],
          }),
        ],
      },
    });
    await result(fb.json.request_id);
    const opt = await post('/api/v1/optim_step', {
      model_id: modelId,
      seq_id: 3,
      adam_params: { learning_rate: 0.5 },
    });
    await result(opt.json.request_id);
    expect(await save(4)).toBe(path);
    // The current weights, sampled through an ephemeral sampler of the training model.
    const eph = await post('/api/v1/save_weights_for_sampler', {
      model_id: modelId,
      seq_id: 5,
      sampling_session_seq_id: 99,
    });
    const ephId = (await result(eph.json.request_id)).sampling_session_id as string;
    const cur = await post('/api/v1/asample', {
      sampling_session_id: ephId,
      prompt,
      sampling_params: { max_tokens: 8, seed: 7, temperature: 1 },
    });
    const current = (await result(cur.json.request_id)).sequences[0].tokens as number[];
    expect(current).not.toEqual(before);
    expect(await sampleVia(2, path)).toEqual(current);
    // The first session was bound to the engine of the old save: refused, not served old weights.
    const stale = await post('/api/v1/asample', {
      sampling_session_id: `${s}:sample:1`,
      prompt,
      sampling_params: { max_tokens: 2 },
    });
    const answer = stale.status === 200 ? await result(stale.json.request_id) : stale.json;
    expect(JSON.stringify(answer)).toMatch(/saved again/);
    await post('/api/v1/unload_model', { model_id: modelId });
  });

  test('a model_path that fails to load is not cached, leaks no engine, and names no server path', async () => {
    const s = await session();
    const m = await newModel(s, 0);
    const modelId = (await result(m.json.request_id)).model_id as string;
    const r = await post('/api/v1/save_weights_for_sampler', {
      model_id: modelId,
      seq_id: 1,
      path: 'doomed',
    });
    const path = (await result(r.json.request_id)).path as string;
    // Delete the save behind the server's back (its folder name is the model id made file-safe).
    const saved = readdirSync(checkpointDir).filter((n) => n.endsWith('-sampler-doomed'));
    expect(saved).toHaveLength(1);
    rmSync(join(checkpointDir, saved[0]), { recursive: true, force: true });
    const openBefore = counting.open();
    const createdBefore = counting.created();
    for (let i = 0; i < 2; i++) {
      const a = await post('/api/v1/asample', {
        model_path: path,
        prompt,
        sampling_params: { max_tokens: 2 },
      });
      expect(a.status).toBe(200);
      const failed = await result(a.json.request_id);
      expect(failed.error).toMatch(/does not exist/);
      expect(failed.error).not.toContain(root);
    }
    expect(counting.created()).toBe(createdBefore + 2); // retried, not served from a cache
    for (let i = 0; i < 100 && counting.open() > openBefore; i++) {
      await new Promise((res) => setTimeout(res, 50));
    }
    expect(counting.open()).toBe(openBefore); // both failed engines were closed
    await post('/api/v1/unload_model', { model_id: modelId });
  });
});

describe('item 5: busy port', () => {
  test('a second server on a taken port fails with one ConfigurationError line', async () => {
    const { provider } = localProvider({ modelDir: MODEL, checkpointDir });
    const err = await startServer({ provider, port: server.port }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ConfigurationError);
    expect((err as Error).message).toMatch(
      new RegExp(`port ${server.port} on 127\\.0\\.0\\.1 is already in use`),
    );
  });
});

describe('item 6: engine cap', () => {
  test('create_model past --max-engines is a 429 naming the limit; idle models of silent sessions are unloaded', async () => {
    const { provider } = localProvider({ modelDir: MODEL, checkpointDir });
    const small = await startServer({
      provider,
      port: 0,
      limits: { maxEngines: 2, idleUnloadMs: 60_000 },
    });
    try {
      const { post: ask } = serveClient(() => small.url);
      const s = (await ask('/api/v1/create_session', { tags: [] })).json.session_id;
      const body = (seq: number) => ({ session_id: s, model_seq_id: seq, base_model: 'model' });
      expect((await ask('/api/v1/create_model', body(0))).status).toBe(200);
      const refused = await ask('/api/v1/create_model', body(1));
      expect(refused.status).toBe(429);
      expect(refused.json.detail).toMatch(/already holds 2 engines \(limit 2, --max-engines\)/);
      expect(await small.service.unloadIdle(Date.now() + 120_000)).toBe(1);
      expect((await ask('/api/v1/create_model', body(2))).status).toBe(200);
      expect(small.service.engineCount()).toBe(2);
    } finally {
      await small.close();
    }
  });

  test('heartbeats keep an idle training model loaded; --idle-unload-minutes after the last one, it is unloaded', async () => {
    const { provider } = localProvider({ modelDir: MODEL, checkpointDir });
    const small = await startServer({ provider, port: 0, limits: { idleUnloadMs: 60_000 } });
    try {
      const { post: ask, result: settle } = serveClient(() => small.url);
      const s = (await ask('/api/v1/create_session', { tags: [] })).json.session_id;
      const made = await ask('/api/v1/create_model', {
        session_id: s,
        model_seq_id: 0,
        base_model: 'model',
      });
      await settle(made.json.request_id);
      // The model is last used no later than this; the heartbeat comes at least 50 ms after.
      const lastUse = Date.now();
      await new Promise((r) => setTimeout(r, 50));
      expect((await ask('/api/v1/session_heartbeat', { session_id: s })).status).toBe(200);
      const beat = Date.now();
      expect(await small.service.unloadIdle(lastUse + 60_010)).toBe(0);
      expect(small.service.engineCount()).toBe(2);
      // The flag's minute, not a fixed ten: silent for 60 s and idle, the model goes.
      expect(await small.service.unloadIdle(beat + 60_000)).toBe(1);
      expect(small.service.engineCount()).toBe(1);
    } finally {
      await small.close();
    }
  });

  test('finishing a session (SDK ServiceClient.close) frees its engines; the session then answers 410', async () => {
    const { provider } = localProvider({ modelDir: MODEL, checkpointDir });
    const small = await startServer({ provider, port: 0, limits: { maxEngines: 2 } });
    try {
      const { post: ask } = serveClient(() => small.url);
      const open = async () => (await ask('/api/v1/create_session', { tags: [] })).json.session_id;
      const model = (s: string) =>
        ask('/api/v1/create_model', { session_id: s, model_seq_id: 0, base_model: 'model' });
      const first = await open();
      expect((await model(first)).status).toBe(200);
      const second = await open();
      expect((await model(second)).status).toBe(429);
      const finish = { reason: { type: 'success' }, detail: null };
      const done = await ask(`/api/v1/sessions/${first}/finish`, finish);
      expect(done.status).toBe(200);
      expect(done.json.status).toBe('success');
      expect(small.service.engineCount()).toBe(1);
      expect((await model(second)).status).toBe(200);
      // The SDK's heartbeat loop stops on 410; new work in the finished session is refused too.
      const beat = await ask('/api/v1/session_heartbeat', { session_id: first });
      expect(beat.status).toBe(410);
      expect(beat.json.detail).toMatch(/has finished \(success\)/);
      expect((await model(first)).status).toBe(410);
      expect((await ask(`/api/v1/sessions/${first}/finish`, finish)).status).toBe(200);
      const bad = await ask(`/api/v1/sessions/${second}/finish`, { reason: { type: 'maybe' } });
      expect(bad.status).toBe(400);
      expect((await ask('/api/v1/sessions/nope/finish', finish)).status).toBe(404);
    } finally {
      await small.close();
    }
  });
});

describe('item 7: requests a web page could send', () => {
  test('a foreign Origin is refused, the server’s own origin is not', async () => {
    const evil = await post(
      '/api/v1/create_session',
      { tags: [] },
      { origin: 'http://evil.example' },
    );
    expect(evil.status).toBe(403);
    expect(evil.json.detail).toMatch(/origin 'http:\/\/evil\.example' are refused/);
    const own = await post('/api/v1/create_session', { tags: [] }, { origin: server.url });
    expect(own.status).toBe(200);
  });

  test('a text/plain or form body is a 415', async () => {
    for (const type of [
      'text/plain',
      'application/x-www-form-urlencoded',
      'multipart/form-data; boundary=x',
    ]) {
      const r = await raw('/api/v1/create_session', {
        body: '{"tags":[]}',
        headers: { 'content-type': type },
      });
      expect(r.status).toBe(415);
    }
    const none = await raw('/api/v1/create_session', { body: '{"tags":[]}' });
    expect(none.status).toBe(415);
  });

  test('a rebinding Host is refused without an API key', async () => {
    const r = await post('/api/v1/create_session', { tags: [] }, { host: 'evil.example:8000' });
    expect(r.status).toBe(403);
    expect(r.json.detail).toMatch(/Host 'evil\.example:8000' is refused/);
    expect((await post('/api/v1/create_session', { tags: [] }, { host: 'localhost' })).status).toBe(
      200,
    );
  });

  test('an empty API key and a non-loopback address without a key refuse to start', async () => {
    const { provider } = localProvider({ modelDir: MODEL, checkpointDir });
    await expect(startServer({ provider, port: 0, apiKey: '' })).rejects.toThrow(
      /API key is empty/,
    );
    await expect(startServer({ provider, port: 0, host: '0.0.0.0' })).rejects.toThrow(
      /refusing to bind 0\.0\.0\.0 without an API key/,
    );
  });
});

describe('item 8: checkpoint folder', () => {
  test('by default checkpoints go to a data folder, never next to the model', () => {
    const { checkpointDir: dir } = localProvider({ modelDir: MODEL });
    expect(dir).toBe(defaultCheckpointDir('model'));
    expect(dir.startsWith(process.env.SPELL_DATA_DIR ?? '/nonexistent')).toBe(true);
    expect(dir.startsWith(join(MODEL, '..'))).toBe(false);
  });
});

describe('small holes', () => {
  test('deeply nested JSON is a 400, not a 500', async () => {
    const r = await post('/api/v1/create_session', '['.repeat(50_000) + ']'.repeat(50_000));
    expect(r.status).toBe(400);
    expect(r.json.detail).toMatch(/nested deeper than 64/);
    const deep = '['.repeat(5000) + ']'.repeat(5000);
    const dedup = await post(
      '/api/v1/create_model',
      `{"session_id":"x","base_model":"model","deep":${deep}}`,
    );
    expect(dedup.status).toBe(400);
  });

  test('malformed percent-encoding in a path is a 400', async () => {
    const r = await raw('/api/v1/samplers/%E0%A4%A');
    expect(r.status).toBe(400);
    expect(r.json.detail).toMatch(/malformed percent-encoding/);
  });

  test('unsupported OpenAI parameters are a 400 naming them', async () => {
    const base = { messages: [{ role: 'user', content: 'hi' }], max_tokens: 1 };
    for (const extra of [
      { tools: [{ type: 'function', function: { name: 'f' } }] },
      { logit_bias: { '5': 10 } },
      { response_format: { type: 'json_object' } },
    ]) {
      const r = await post('/v1/chat/completions', { ...base, ...extra });
      expect(r.status).toBe(400);
      expect(r.json.detail).toContain(`${Object.keys(extra)[0]} is not supported`);
    }
    const c = await post('/v1/completions', { prompt: 'hi', max_tokens: 1, best_of: 2 });
    expect(c.status).toBe(400);
    expect(c.json.detail).toContain('best_of is not supported');
  });
});
