/**
 * Property-based fuzzing of every `spell serve` route (bounded: a fixed number of runs, small
 * bodies, a small KV budget): random JSON and mutations of valid requests must never get a 5xx or
 * hang, memory stays bounded, and the server still answers correctly afterwards.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { localProvider, startServer, type SpellServer } from '../../src/serve/index.ts';
import { serveClient, type RawOptions } from './serve-client.ts';

const MODEL = fileURLToPath(new URL('../../assets/model/', import.meta.url));
const root = mkdtempSync(join(tmpdir(), 'spell-fuzz-'));
let server: SpellServer;

beforeAll(async () => {
  const { provider, extraRoutes } = localProvider({
    modelDir: MODEL,
    checkpointDir: join(root, 'checkpoints'),
  });
  server = await startServer({
    provider,
    port: 0,
    longPollMs: 50,
    maxBodyBytes: 32 * 1024,
    // 64 token positions: any sampling the fuzzer gets admitted is tiny.
    limits: { maxEngines: 3, kvBudgetBytes: 64 * 2048 },
    ...(extraRoutes ? { extraRoutes } : {}),
  });
});

afterAll(async () => {
  await server.close();
  rmSync(root, { recursive: true, force: true });
});

const POST_ROUTES = [
  '/api/v1/create_session',
  '/api/v1/session_heartbeat',
  '/api/v1/create_model',
  '/api/v1/get_info',
  '/api/v1/unload_model',
  '/api/v1/forward',
  '/api/v1/forward_backward',
  '/api/v1/optim_step',
  '/api/v1/save_weights',
  '/api/v1/save_weights_for_sampler',
  '/api/v1/load_weights',
  '/api/v1/create_sampling_session',
  '/api/v1/asample',
  '/api/v1/retrieve_future',
  '/api/v1/client/config',
  '/api/v1/telemetry',
  '/v1/chat/completions',
  '/v1/completions',
  '/tokenize',
  '/detokenize',
];
const GET_ROUTES = [
  '/',
  '/health',
  '/api/v1/get_server_capabilities',
  '/v1/models',
  '/api/v1/samplers/x%zz',
];

const tokens = { chunks: [{ type: 'encoded_text', tokens: [5, 6, 7] }] };
/** Valid-looking bodies the mutations start from. */
const SEEDS: Record<string, unknown> = {
  '/api/v1/create_session': { tags: [], sdk_version: '0.24.1' },
  '/api/v1/create_model': {
    session_id: 'session-x',
    base_model: 'model',
    lora_config: { rank: 4 },
  },
  '/api/v1/forward_backward': {
    model_id: 'model-x',
    seq_id: 1,
    forward_backward_input: {
      loss_fn: 'cross_entropy',
      data: [{ model_input: tokens, loss_fn_inputs: {} }],
    },
  },
  '/api/v1/asample': {
    base_model: 'model',
    prompt: tokens,
    num_samples: 2,
    sampling_params: { max_tokens: 4 },
  },
  '/v1/chat/completions': { messages: [{ role: 'user', content: 'hi' }], max_tokens: 2 },
  '/v1/completions': { prompt: [5, 6], max_tokens: 2 },
  '/tokenize': { prompt: 'hello' },
  '/detokenize': { tokens: [5, 6] },
};

/** A JSON value with one path replaced by a random value (or removed). */
function mutate(value: unknown, path: readonly number[], replacement: unknown): unknown {
  if (path.length === 0 || typeof value !== 'object' || value === null) return replacement;
  const entries = Array.isArray(value)
    ? value.map((v, i) => [String(i), v] as const)
    : Object.entries(value);
  if (entries.length === 0) return replacement;
  const pick = path[0] % entries.length;
  const out: Record<string, unknown> | unknown[] = Array.isArray(value) ? [...value] : { ...value };
  const key = entries[pick][0];
  (out as Record<string, unknown>)[key] = mutate(entries[pick][1], path.slice(1), replacement);
  return out;
}

const body = fc.oneof(
  fc.jsonValue({ maxDepth: 4 }).map((v) => JSON.stringify(v)),
  fc
    .tuple(
      fc.constantFrom(...Object.keys(SEEDS)),
      fc.array(fc.nat(), { maxLength: 5 }),
      fc.oneof(fc.jsonValue({ maxDepth: 2 }), fc.constant(undefined), fc.integer(), fc.double()),
    )
    .map(([route, path, v]) => JSON.stringify(mutate(SEEDS[route], path, v)) ?? ''),
  fc.string({ maxLength: 200 }),
  fc.uint8Array({ maxLength: 200 }).map((b) => Buffer.from(b).toString('latin1')),
  fc.constantFrom('', '{', '[]', 'null', '1e999', '"\\ud800"', '['.repeat(100) + ']'.repeat(100)),
);

const request = fc.record({
  route: fc.constantFrom(...POST_ROUTES),
  body,
  contentType: fc.constantFrom('application/json', 'application/json', 'text/plain', undefined),
});

const client = serveClient(() => server.url);

/** The status of one request; a hang fails the run after 30 s. */
async function send(path: string, opts: RawOptions = {}): Promise<number> {
  return (await client.raw(path, { ...opts, signal: AbortSignal.timeout(30_000) })).status;
}

test('random and mutated bodies on every route: no 5xx, no hang, bounded memory, still correct', async () => {
  const rssBefore = process.memoryUsage().rss;
  for (const path of GET_ROUTES) expect(await send(path, {})).toBeLessThan(500);
  await fc.assert(
    fc.asyncProperty(request, async (r) => {
      const path = r.route;
      const status = await send(path, {
        method: 'POST',
        headers: r.contentType ? { 'content-type': r.contentType } : {},
        body: r.body,
      });
      expect(status, `${path} ${r.body.slice(0, 200)}`).toBeLessThan(500);
    }),
    { numRuns: 300, seed: 25, endOnFailure: true },
  );
  // Still correct: a session, a sample and a chat answer.
  expect((await client.post('/api/v1/create_session', { tags: [] })).status).toBe(200);
  const chat = await client.post('/v1/chat/completions', {
    messages: [{ role: 'user', content: 'hi' }],
    max_tokens: 2,
  });
  expect(chat.status).toBe(200);
  expect(chat.json.choices).toHaveLength(1);
  expect(server.service.kv.inUseBytes).toBe(0);
  expect(process.memoryUsage().rss - rssBefore).toBeLessThan(512 * 1024 * 1024);
}, 240_000);
