/**
 * The OpenAI-compatible client against a real HTTP peer on 127.0.0.1: a small node:http server
 * (defined below) that speaks /v1/chat/completions, /v1/completions, /tokenize and /detokenize
 * with a real tokenizer and chat template (one trained here by our BPE trainer) and a seeded,
 * deterministic word generator as its "model". It can fail on purpose (503s, slow answers).
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, beforeEach, describe, expect, test } from 'vitest';
import { ConfigurationError, RemoteEngineError } from '../../core/errors.ts';
import { Rng, hashString } from '../../core/rng.ts';
import { trainBpe } from '../../text/bpe-train.ts';
import { renderChat, type ChatMessage } from '../../text/chat.ts';
import {
  buildTokenizerConfig,
  buildTokenizerJson,
  CHATML_ADDED_TOKENS,
} from '../../text/tokenizer-files.ts';
import { tokenizerFromJson, type HfTokenizer } from '../../text/tokenizer.ts';
import { OpenAiChatEngine } from './openai-chat-engine.ts';

const MODEL = 'spell-test-model';
const WORDS = ['the', 'answer', 'is', 'forty', 'two', 'because', 'documents', 'say', 'so', 'END'];

/** The peer's knobs and what it saw. */
interface PeerState {
  failNext: number; // answer this many requests with 503 first
  delayMs: number; // hold every answer this long
  inFlight: number;
  maxInFlight: number;
  bodies: Record<string, unknown>[];
  paths: string[];
  raw200: string | null; // answer every completion with HTTP 200 and this JSON body
  ignoreN: boolean; // answer one choice whatever n asks (as llama-cpp-python's server does)
  stallBody: boolean; // send the headers and half a body of every completion, then nothing
}

let tok: HfTokenizer;
let server: Server;
let baseURL: string;
const timers = new Set<NodeJS.Timeout>();
const state: PeerState = {
  failNext: 0,
  delayMs: 0,
  inFlight: 0,
  maxInFlight: 0,
  bodies: [],
  paths: [],
  raw200: null,
  ignoreN: false,
  stallBody: false,
};

/** The peer's "model": seeded words, cut at stop strings or at max_tokens tokens. */
function generate(
  promptIds: readonly number[],
  seed: number,
  index: number,
  maxTokens: number,
  stop: string[],
) {
  const rng = new Rng(
    (hashString(promptIds.join(',')) ^ Math.imul(seed, 7919) ^ Math.imul(index + 1, 104729)) >>> 0,
  );
  const words: string[] = [];
  for (let i = 0; i < 3 + rng.int(6); i++) words.push(rng.choice(WORDS));
  let text = words.join(' ');
  let finish: 'stop' | 'length' = 'stop';
  for (const s of stop) {
    const at = text.indexOf(s);
    if (at >= 0) text = text.slice(0, at);
  }
  let ids = tok.encode(text, { addSpecialTokens: false });
  if (ids.length > maxTokens) {
    ids = ids.slice(0, maxTokens);
    text = tok.decode(ids);
    finish = 'length';
  }
  return { text, finish, tokens: ids.length };
}

function send(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  const finish = () => {
    res.writeHead(status, { 'content-type': 'application/json', ...headers });
    res.end(JSON.stringify(body));
    state.inFlight--;
  };
  if (state.delayMs > 0) {
    const t = setTimeout(() => {
      timers.delete(t);
      finish();
    }, state.delayMs);
    timers.add(t);
  } else finish();
}

function badRequest(res: ServerResponse, message: string): void {
  send(res, 400, { error: { message, type: 'invalid_request_error', code: null } });
}

function handle(path: string, body: Record<string, unknown>, res: ServerResponse): void {
  if (state.failNext > 0) {
    state.failNext--;
    send(
      res,
      503,
      { error: { message: 'overloaded', type: 'server_error' } },
      { 'retry-after-ms': '5' },
    );
    return;
  }
  if (path === '/tokenize') {
    const ids = Array.isArray(body.messages)
      ? renderChat(tok, body.messages as ChatMessage[], {
          addGenerationPrompt: body.add_generation_prompt === true,
        }).ids
      : tok.encode(String(body.prompt), { addSpecialTokens: body.add_special_tokens !== false });
    send(res, 200, { tokens: ids, count: ids.length, max_model_len: 4096 });
    return;
  }
  if (path === '/detokenize') {
    send(res, 200, { prompt: tok.decode(body.tokens as number[]) });
    return;
  }
  if (body.model !== MODEL) {
    send(res, 404, {
      error: { message: `model ${String(body.model)} does not exist`, type: 'not_found' },
    });
    return;
  }
  const asked = body.n === undefined ? 1 : Number(body.n);
  if (!Number.isInteger(asked) || asked < 1) return badRequest(res, 'n must be >= 1');
  const n = state.ignoreN ? 1 : asked;
  const seed = typeof body.seed === 'number' ? body.seed : 0;
  const maxTokens = typeof body.max_tokens === 'number' ? body.max_tokens : 64;
  const stop = Array.isArray(body.stop) ? (body.stop as string[]) : [];
  let promptIds: number[];
  if (path === '/v1/chat/completions') {
    if (!Array.isArray(body.messages)) return badRequest(res, 'messages is required');
    const kwargs = (body.chat_template_kwargs ?? {}) as { enable_thinking?: boolean };
    promptIds = renderChat(tok, body.messages as ChatMessage[], {
      addGenerationPrompt: true,
      enableThinking: kwargs.enable_thinking,
    }).ids;
  } else {
    promptIds = Array.isArray(body.prompt)
      ? (body.prompt as number[])
      : tok.encode(String(body.prompt));
  }
  const outs = Array.from({ length: n }, (_, i) => generate(promptIds, seed, i, maxTokens, stop));
  const completion = outs.reduce((s, o) => s + o.tokens, 0);
  const usage = {
    prompt_tokens: promptIds.length,
    completion_tokens: completion,
    total_tokens: promptIds.length + completion,
  };
  // Choices are listed in reverse on purpose: clients must order by `index`.
  const choices = outs
    .map((o, index) =>
      path === '/v1/chat/completions'
        ? {
            index,
            message: { role: 'assistant', content: o.text },
            finish_reason: o.finish,
            logprobs: null,
          }
        : { index, text: o.text, finish_reason: o.finish, logprobs: null },
    )
    .reverse();
  const object = path === '/v1/chat/completions' ? 'chat.completion' : 'text_completion';
  send(res, 200, { id: 'x', object, created: 0, model: MODEL, choices, usage });
}

function onRequest(req: IncomingMessage, res: ServerResponse): void {
  state.inFlight++;
  state.maxInFlight = Math.max(state.maxInFlight, state.inFlight);
  const chunks: Buffer[] = [];
  req.on('data', (c: Buffer) => chunks.push(c));
  req.on('end', () => {
    const path = req.url ?? '';
    state.paths.push(path);
    const routes = ['/v1/chat/completions', '/v1/completions', '/tokenize', '/detokenize'];
    if (req.method !== 'POST' || !routes.includes(path)) {
      send(res, 404, { error: { message: `no route ${req.method} ${path}`, type: 'not_found' } });
      return;
    }
    let body: Record<string, unknown>;
    try {
      body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as Record<string, unknown>;
    } catch {
      badRequest(res, 'malformed JSON');
      return;
    }
    state.bodies.push(body);
    if (state.stallBody && path.endsWith('completions')) {
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': '1000' });
      res.write('{"id":"x","choices":[');
      return; // never ends: closed by afterAll's closeAllConnections or the client's abort
    }
    if (state.raw200 !== null && path.endsWith('completions')) {
      res.writeHead(200, { 'content-type': 'application/json' }).end(state.raw200);
      return;
    }
    handle(path, body, res);
  });
}

beforeAll(async () => {
  const corpus = Array.from(
    { length: 300 },
    (_, i) => `${WORDS[i % WORDS.length]} ${WORDS[(i * 7) % WORDS.length]}`,
  ).join(' ');
  const model = trainBpe([corpus], { vocabSize: 300, addedTokens: [...CHATML_ADDED_TOKENS] });
  tok = tokenizerFromJson('/peer', buildTokenizerJson(model), buildTokenizerConfig(model));
  server = createServer(onRequest);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  baseURL = `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`;
});

afterAll(async () => {
  for (const t of timers) clearTimeout(t);
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

beforeEach(() => {
  Object.assign(state, {
    failNext: 0,
    delayMs: 0,
    inFlight: 0,
    maxInFlight: 0,
    bodies: [],
    paths: [],
    raw200: null,
    ignoreN: false,
    stallBody: false,
  });
});

const engine = (extra: Partial<ConstructorParameters<typeof OpenAiChatEngine>[0]> = {}) =>
  new OpenAiChatEngine({ baseURL, model: MODEL, timeoutMs: 5000, maxRetries: 0, ...extra });

const QUESTION: ChatMessage[] = [{ role: 'user', content: 'What does the document say?' }];

describe('chat and completions', () => {
  test('n = 3 returns three choices in index order, with finish reasons and usage', async () => {
    const r = await engine().chat(QUESTION, { n: 3, seed: 1, maxTokens: 64 });
    expect(r.model).toBe(MODEL);
    expect(r.choices).toHaveLength(3);
    const expected = [0, 1, 2].map((i) => {
      const prompt = renderChat(tok, QUESTION, { addGenerationPrompt: true }).ids;
      return generate(prompt, 1, i, 64, []);
    });
    expect(r.choices.map((c) => c.text)).toEqual(expected.map((e) => e.text));
    expect(r.choices.every((c) => c.finishReason === 'stop')).toBe(true);
    expect(r.usage?.completionTokens).toBe(expected.reduce((s, e) => s + e.tokens, 0));
  });

  test('sampling params reach the server under their OpenAI names', async () => {
    await engine().chat(QUESTION, {
      n: 2,
      temperature: 0.7,
      topP: 0.9,
      maxTokens: 5,
      seed: 42,
      stop: ['END'],
      enableThinking: false,
      extraBody: { top_k: 20 },
    });
    expect(state.bodies[0]).toEqual({
      model: MODEL,
      messages: QUESTION,
      n: 2,
      temperature: 0.7,
      top_p: 0.9,
      max_tokens: 5,
      seed: 42,
      stop: ['END'],
      chat_template_kwargs: { enable_thinking: false },
      top_k: 20,
    });
  });

  test('the same seed gives the same texts; a different seed gives others', async () => {
    const e = engine();
    const a = await e.chat(QUESTION, { n: 4, seed: 7 });
    const b = await e.chat(QUESTION, { n: 4, seed: 7 });
    const c = await e.chat(QUESTION, { n: 4, seed: 8 });
    expect(b.choices).toEqual(a.choices);
    expect(c.choices).not.toEqual(a.choices);
  });

  test('a server that ignores n gets one request per sample, seeds seed+j, from then on', async () => {
    state.ignoreN = true;
    const e = engine();
    const a = await e.chat(QUESTION, { n: 3, seed: 7, maxTokens: 8 });
    expect(state.bodies.map((b) => [b.n, b.seed])).toEqual([
      [3, 7],
      [1, 8],
      [1, 9],
    ]);
    expect(a.choices).toHaveLength(3);
    const prompt = renderChat(tok, QUESTION, { addGenerationPrompt: true }).ids;
    // Each sample is the server's first (index 0) sample under its own seed.
    expect(a.choices.map((c) => c.text)).toEqual(
      [7, 8, 9].map((seed) => generate(prompt, seed, 0, 8, []).text),
    );
    const perRequest = a.usage!.promptTokens / 3;
    expect(perRequest).toBe(prompt.length);
    state.bodies = [];
    const b = await e.complete('the documents say', { n: 2, seed: 7 });
    expect(state.bodies.map((x) => [x.n, x.seed])).toEqual([
      [1, 7],
      [1, 8],
    ]);
    expect(b.choices).toHaveLength(2);
    // Without a seed the samples are asked for unseeded.
    state.bodies = [];
    await e.chat(QUESTION, { n: 2 });
    expect(state.bodies.map((x) => x.seed)).toEqual([undefined, undefined]);
  });

  test('maxTokens cuts a choice with finish reason "length"', async () => {
    const r = await engine().chat(QUESTION, { maxTokens: 1, seed: 3 });
    expect(r.choices[0].finishReason).toBe('length');
    expect(tok.encode(r.choices[0].text, { addSpecialTokens: false }).length).toBe(1);
  });

  test('complete() accepts a token-id prompt and a text prompt for the same result', async () => {
    const e = engine();
    const text = 'the documents say';
    const ids = tok.encode(text, { addSpecialTokens: false });
    const byIds = await e.complete(ids, { n: 2, seed: 5 });
    const byText = await e.complete(text, { n: 2, seed: 5 });
    expect(state.bodies[0].prompt).toEqual(ids);
    expect(byIds.choices).toEqual(byText.choices);
    expect(byIds.usage?.promptTokens).toBe(ids.length);
  });

  test('server-side tokenize and detokenize agree with the local tokenizer', async () => {
    const e = engine();
    expect(await e.tokenize({ text: 'the answer is forty two' })).toEqual(
      tok.encode('the answer is forty two'),
    );
    const rendered = renderChat(tok, QUESTION, { addGenerationPrompt: true });
    expect(await e.tokenize({ messages: QUESTION, addGenerationPrompt: true })).toEqual(
      rendered.ids,
    );
    expect(await e.detokenize(rendered.ids)).toBe(rendered.text);
    expect(state.paths).toEqual(['/tokenize', '/tokenize', '/detokenize']);
  });
});

describe('failures', () => {
  test('a 503 is retried and the second attempt succeeds', async () => {
    state.failNext = 1;
    const r = await engine({ maxRetries: 2 }).chat(QUESTION, { seed: 1 });
    expect(r.choices).toHaveLength(1);
    expect(state.paths).toEqual(['/v1/chat/completions', '/v1/chat/completions']);
  });

  test('503s beyond the retry budget give a RemoteEngineError with status and endpoint', async () => {
    state.failNext = 5;
    const err = await engine({ maxRetries: 1 })
      .chat(QUESTION)
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RemoteEngineError);
    const remote = err as RemoteEngineError;
    expect(remote.status).toBe(503);
    expect(remote.endpoint).toBe(`${baseURL}/chat/completions`);
    expect(state.paths).toHaveLength(2);
  });

  test('a 4xx is not retried and keeps the server error body', async () => {
    const err = await new OpenAiChatEngine({ baseURL, model: 'no-such-model', maxRetries: 3 })
      .chat(QUESTION)
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RemoteEngineError);
    expect((err as RemoteEngineError).status).toBe(404);
    expect((err as RemoteEngineError).message).toMatch(/no-such-model does not exist/);
    expect(state.paths).toHaveLength(1);
  });

  // HTTP 200 bodies a broken server or proxy sends: each one a RemoteEngineError naming what was
  // wrong (they were TypeErrors, or — for choices without text — silently empty answers).
  test.each([
    ['{}', 'both', /answered HTTP 200 but without "choices"$/],
    ['{"error":{"message":"overloaded"}}', 'both', /without "choices" \(error: overloaded\)/],
    ['null', 'both', /the body is null, not a completion object/],
    ['"hello"', 'both', /the body is a string, not a completion object/],
    ['{"choices":"x"}', 'both', /"choices" is a string, not a list/],
    ['{"choices":[7]}', 'both', /choices\[0\] is a number, not an object/],
    ['{"choices":[{"index":"a","text":"t"}]}', 'both', /choices\[0\]\.index is "a"/],
    ['{"choices":[{"index":0}]}', 'text', /choices\[0\]\.text is missing, not a string/],
    ['{"choices":[{"index":0}]}', 'chat', /choices\[0\]\.message is missing, not an object/],
    ['{"choices":[{"message":{"content":5}}]}', 'chat', /message\.content is a number/],
    ['{"choices":[', 'both', /answered with a body that is not JSON/],
  ])('a 200 body %s is a RemoteEngineError (%s)', async (raw, which, why) => {
    state.raw200 = raw;
    const calls = [
      ...(which !== 'text' ? [() => engine().chat(QUESTION)] : []),
      ...(which !== 'chat' ? [() => engine().complete('the answer')] : []),
    ];
    for (const call of calls) {
      const err = await call().catch((e: unknown) => e);
      expect(err).toBeInstanceOf(RemoteEngineError);
      expect((err as RemoteEngineError).message).toMatch(why);
      expect((err as RemoteEngineError).message).toContain(baseURL);
    }
  });

  test('a server slower than the timeout gives a RemoteEngineError naming the timeout', async () => {
    state.delayMs = 3000;
    const err = await engine({ timeoutMs: 200, maxRetries: 1 })
      .chat(QUESTION)
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RemoteEngineError);
    expect((err as RemoteEngineError).message).toMatch(
      /\/chat\/completions did not answer within the 0\.2 s timeout \(each of 2 attempts\)/,
    );
    expect((err as RemoteEngineError).status).toBeUndefined();
    expect(state.paths).toHaveLength(2); // the timed-out attempt was retried once
  });

  test('a server that sends the headers and then stalls mid-body times out the same way', async () => {
    // The SDK's own timer stops at the headers; the engine reads the body under it.
    state.stallBody = true;
    const err = await engine({ timeoutMs: 300, maxRetries: 1 })
      .complete('x')
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RemoteEngineError);
    expect((err as RemoteEngineError).message).toMatch(
      /\/completions did not answer within the 0\.3 s timeout \(each of 2 attempts\)/,
    );
    expect(state.paths).toEqual(['/v1/completions', '/v1/completions']);
  });

  test('a closed port gives a RemoteEngineError without status', async () => {
    const probe = createServer();
    await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
    const port = (probe.address() as AddressInfo).port;
    await new Promise<void>((resolve) => probe.close(() => resolve()));
    const e = new OpenAiChatEngine({
      baseURL: `http://127.0.0.1:${port}/v1`,
      model: MODEL,
      maxRetries: 0,
    });
    const err = await e.complete('x').catch((x: unknown) => x);
    expect(err).toBeInstanceOf(RemoteEngineError);
    expect((err as RemoteEngineError).status).toBeUndefined();
    expect((err as RemoteEngineError).message).toMatch(/could not be reached/);
  });

  test('bad parameters and base URLs are ConfigurationErrors before any request', async () => {
    await expect(engine().chat(QUESTION, { n: 0 })).rejects.toThrow(ConfigurationError);
    await expect(engine().chat(QUESTION, { topP: 1.5 })).rejects.toThrow(/topP/);
    expect(() => new OpenAiChatEngine({ baseURL: 'not a url', model: MODEL })).toThrow(
      ConfigurationError,
    );
    expect(state.paths).toHaveLength(0);
  });
});

describe('concurrency limit', () => {
  test('never more requests in flight than the limit, and every request completes', async () => {
    // Held long enough that two requests overlap even when a busy machine delays the second.
    state.delayMs = 1000;
    const e = engine({ concurrency: 2 });
    const results = await Promise.all(
      Array.from({ length: 6 }, (_, i) => e.chat(QUESTION, { seed: i })),
    );
    expect(results).toHaveLength(6);
    expect(state.maxInFlight).toBe(2);
  });
});
