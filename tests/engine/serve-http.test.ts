/**
 * `spell serve` at the HTTP level (in-process on a free loopback port): precise 4xx answers for bad
 * requests, seq_id ordering and de-duplication, API key and body limit, and health checks that
 * answer while a training step runs.
 */
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { localProvider, startServer, type SpellServer } from '../../src/serve/index.ts';
import { wire } from '../../src/engine/tinker/index.ts';
import { makeTinyModel } from './fixtures.ts';

const model = makeTinyModel();
let server: SpellServer;
const KEY = 'tml-test-key';

beforeAll(async () => {
  const { provider } = localProvider({
    modelDir: model.modelDir,
    checkpointDir: model.checkpointDir,
  });
  server = await startServer({
    provider,
    port: 0,
    longPollMs: 200,
    apiKey: KEY,
    maxBodyBytes: 64 * 1024,
  });
});

afterAll(async () => {
  await server.close();
  model.remove();
});

async function call(
  path: string,
  body?: unknown,
  init: { raw?: string; key?: string | null; method?: string } = {},
) {
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  if (init.key !== null) headers['x-api-key'] = init.key ?? KEY;
  const res = await fetch(`${server.url}${path}`, {
    method: init.method ?? (body === undefined && init.raw === undefined ? 'GET' : 'POST'),
    headers,
    ...(init.raw !== undefined
      ? { body: init.raw }
      : body !== undefined
        ? { body: JSON.stringify(body) }
        : {}),
  });
  const text = await res.text();
  return { status: res.status, json: text ? JSON.parse(text) : undefined };
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- retrieve_future results are untyped JSON here
async function result(requestId: string): Promise<any> {
  for (;;) {
    const r = await call('/api/v1/retrieve_future', { request_id: requestId });
    if (r.json?.type !== 'try_again') return r.json;
  }
}

async function newModel(): Promise<string> {
  const s = await call('/api/v1/create_session', { tags: [], sdk_version: '0.24.1' });
  const m = await call('/api/v1/create_model', {
    session_id: s.json.session_id,
    model_seq_id: 0,
    base_model: 'tiny',
    lora_config: { rank: 4 },
  });
  expect(m.status).toBe(200);
  return (await result(m.json.request_id)).model_id;
}

const fbBody = (modelId: string, seq: number, weight = 1) => ({
  model_id: modelId,
  seq_id: seq,
  forward_backward_input: {
    loss_fn: 'cross_entropy',
    data: [
      wire.encodeDatum({ modelInput: [1, 2, 3], targetTokens: [2, 3, 4], weights: [weight, 1, 1] }),
    ],
  },
});

describe('spell serve: errors are precise 4xx answers', () => {
  test.each([
    ['unknown route', '/api/v1/nope', {}, 404, /unknown route POST \/api\/v1\/nope/],
    ['wrong method', '/api/v1/create_session', undefined, 405, /method GET is not allowed/],
    [
      'wrong type',
      '/api/v1/create_model',
      { session_id: 5, base_model: 'tiny' },
      400,
      /session_id: .*expected string/i,
    ],
    [
      'unknown session',
      '/api/v1/create_model',
      { session_id: 'nope', base_model: 'tiny' },
      404,
      /unknown session_id 'nope'/,
    ],
    [
      'unknown model id',
      '/api/v1/get_info',
      { model_id: 'model-x' },
      404,
      /unknown model_id 'model-x'/,
    ],
    [
      'unknown future',
      '/api/v1/retrieve_future',
      { request_id: 'zz' },
      404,
      /unknown request_id 'zz'/,
    ],
  ])('%s', async (_name, path, body, status, detail) => {
    const r = await call(path, body);
    expect(r.status).toBe(status);
    expect(r.json.detail).toMatch(detail);
  });

  test('malformed JSON is a 400 and the server keeps serving', async () => {
    const r = await call('/api/v1/create_session', undefined, { raw: '{"tags": [' });
    expect(r.status).toBe(400);
    expect(r.json.detail).toMatch(/malformed JSON body/);
    expect((await call('/api/v1/healthz')).json).toEqual({ status: 'ok' });
  });

  test('a missing or wrong API key is a 401; health checks need none', async () => {
    expect((await call('/api/v1/create_session', {}, { key: null })).status).toBe(401);
    expect((await call('/api/v1/create_session', {}, { key: 'wrong' })).status).toBe(401);
    expect((await call('/api/v1/healthz', undefined, { key: null })).status).toBe(200);
  });

  test('a body over the limit is a 413', async () => {
    const r = await call('/api/v1/create_session', { tags: ['x'.repeat(70 * 1024)] });
    expect(r.status).toBe(413);
    expect(r.json.detail).toMatch(/exceeds the limit of 65536/);
  });

  test('a datum whose tensors do not match its input length is a 400 naming the field', async () => {
    const id = await newModel();
    const body = fbBody(id, 1);
    const weights = body.forward_backward_input.data[0].loss_fn_inputs.weights;
    weights.data.pop();
    weights.shape = [2];
    const r = await call('/api/v1/forward_backward', body);
    expect(r.status).toBe(400);
    expect(r.json.detail).toMatch(/data\[0\]\.loss_fn_inputs\.weights has length 2; expected 3/);
  });
});

describe('spell serve: seq_id ordering and de-duplication', () => {
  test('a resend with the same body gets the same request id; a different body is a 409', async () => {
    const id = await newModel();
    const a = await call('/api/v1/forward_backward', fbBody(id, 1));
    const again = await call('/api/v1/forward_backward', fbBody(id, 1));
    expect(again.json.request_id).toBe(a.json.request_id);
    const changed = await call('/api/v1/forward_backward', fbBody(id, 1, 0.5));
    expect(changed.status).toBe(409);
    expect(changed.json.detail).toMatch(
      /seq_id 1 of model .* already used for a different request/,
    );
    await result(a.json.request_id);
    expect(server.service.counters(id)?.forwardBackward).toBe(1);
  });

  test('requests run in seq_id order even when they arrive out of order; far-ahead ids are a 400', async () => {
    const id = await newModel();
    const optim = {
      model_id: id,
      seq_id: 2,
      adam_params: { learning_rate: 0.01 },
      type: 'optim_step',
    };
    const second = await call('/api/v1/optim_step', optim);
    expect(second.status).toBe(200);
    // Held: seq 1 has not arrived, so the optimizer step must not have run.
    expect(
      (await call('/api/v1/retrieve_future', { request_id: second.json.request_id })).json.type,
    ).toBe('try_again');
    expect(server.service.counters(id)?.optimStep).toBe(0);
    const first = await call('/api/v1/forward_backward', fbBody(id, 1));
    expect((await result(first.json.request_id)).loss_fn_outputs).toHaveLength(1);
    expect((await result(second.json.request_id)).metrics.grad_norm).toBeGreaterThan(0);
    const far = await call('/api/v1/optim_step', { ...optim, seq_id: 500 });
    expect(far.status).toBe(400);
    expect(far.json.detail).toMatch(/seq_id 500 .* out of order: the next expected seq_id is 3/);
  });

  test('load_weights is refused unless it is the first request of a model', async () => {
    const id = await newModel();
    const save = await call('/api/v1/save_weights', { model_id: id, seq_id: 1, path: 'first' });
    const saved = await result(save.json.request_id);
    expect(saved.path).toBe(`tinker://${id}/weights/first`);
    const load = await call('/api/v1/load_weights', {
      model_id: id,
      seq_id: 2,
      path: saved.path,
      optimizer: true,
    });
    expect(load.status).toBe(400);
    expect(load.json.detail).toMatch(/only accepted as a model's first request/);
  });
});

describe('spell serve: liveness', () => {
  test('health checks answer while a training step runs', async () => {
    const id = await newModel();
    const long = Array.from({ length: 400 }, (_, i) => (i * 7) % 64);
    const data = Array.from({ length: 6 }, () =>
      wire.encodeDatum({ modelInput: long, targetTokens: long, weights: long.map(() => 1) }),
    );
    const order: string[] = [];
    const submitted = await call('/api/v1/forward_backward', {
      model_id: id,
      seq_id: 1,
      forward_backward_input: { loss_fn: 'cross_entropy', data },
    });
    const done = result(submitted.json.request_id).then(() => order.push('train'));
    const health = call('/api/v1/healthz').then((r) => order.push(`health ${r.status}`));
    await Promise.all([done, health]);
    expect(order).toEqual(['health 200', 'train']);
  });
});

describe('spell serve: lora_config', () => {
  test('create_model honours lora_config.rank; get_info reports it; no lora_config is full fine-tuning', async () => {
    const s = await call('/api/v1/create_session', { tags: [], sdk_version: '0.24.1' });
    const info = async (
      extra: Record<string, unknown>,
      seq: number,
    ): Promise<Record<string, unknown>> => {
      const m = await call('/api/v1/create_model', {
        session_id: s.json.session_id,
        model_seq_id: seq,
        base_model: 'tiny',
        ...extra,
      });
      const id = (await result(m.json.request_id)).model_id;
      return (await call('/api/v1/get_info', { model_id: id })).json;
    };
    const lora = await info({ lora_config: { rank: 4, seed: 1 } }, 0);
    expect(lora).toMatchObject({ is_lora: true, lora_rank: 4 });
    const full = await info({}, 1);
    expect(full.is_lora).toBe(false);
    expect(full.lora_rank).toBeUndefined();
  });
});
