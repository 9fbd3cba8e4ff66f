/**
 * `spell serve`'s OpenAI-compatible and vLLM-style routes on a tiny random model that carries the
 * real Qwen3 tokenizer and chat template (in-process server on a free loopback port).
 */
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { renderChat } from '../../src/text/chat.ts';
import { loadTokenizer } from '../../src/text/tokenizer.ts';
import { localProvider, startServer, type SpellServer } from '../../src/serve/index.ts';
import { makeTinyModel } from './fixtures.ts';

const model = makeTinyModel({ qwen3Tokenizer: true });
let server: SpellServer;

beforeAll(async () => {
  const { provider, extraRoutes } = localProvider({
    modelDir: model.modelDir,
    checkpointDir: model.checkpointDir,
  });
  server = await startServer({ provider, port: 0, ...(extraRoutes ? { extraRoutes } : {}) });
});

afterAll(async () => {
  await server.close();
  model.remove();
});

async function post(path: string, body: unknown) {
  const res = await fetch(`${server.url}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  return { status: res.status, type: res.headers.get('content-type'), text: await res.text() };
}

const messages = [{ role: 'user' as const, content: 'What is 2 + 2?' }];

interface ChatChoice {
  delta?: { content?: string };
  logprobs: { content: unknown[] };
}

describe('spell serve: OpenAI-compatible routes', () => {
  test('/v1/models lists the served model', async () => {
    const r = (await (await fetch(`${server.url}/v1/models`)).json()) as {
      object: string;
      data: { id: string }[];
    };
    expect(r.object).toBe('list');
    expect(r.data.map((m: { id: string }) => m.id)).toEqual(['tiny']);
  });

  test('chat completions: n choices, seeded, with logprobs and usage from the chat template', async () => {
    const body = { model: 'tiny', messages, n: 2, seed: 5, max_tokens: 5, logprobs: true };
    const a = JSON.parse((await post('/v1/chat/completions', body)).text);
    const b = JSON.parse((await post('/v1/chat/completions', body)).text);
    expect(b.choices).toEqual(a.choices);
    expect(a.choices).toHaveLength(2);
    const promptIds = renderChat(loadTokenizer(model.modelDir), messages, {
      addGenerationPrompt: true,
    }).ids;
    expect(a.usage.prompt_tokens).toBe(promptIds.length);
    for (const c of a.choices) {
      expect(c.message.role).toBe('assistant');
      expect(['stop', 'length']).toContain(c.finish_reason);
      expect(c.logprobs.content.length).toBeGreaterThan(0);
      for (const t of c.logprobs.content) expect(t.logprob).toBeLessThanOrEqual(0);
    }
    expect(a.usage.completion_tokens).toBe(
      a.choices.reduce((n: number, c: ChatChoice) => n + c.logprobs.content.length, 0),
    );
  });

  test('a streamed chat completion carries the same text as the plain one, then [DONE]', async () => {
    const body = { messages, seed: 9, max_tokens: 6 };
    const plain = JSON.parse((await post('/v1/chat/completions', body)).text);
    const streamed = await post('/v1/chat/completions', {
      ...body,
      stream: true,
      stream_options: { include_usage: true },
    });
    expect(streamed.type).toBe('text/event-stream');
    const events = streamed.text
      .split('\n\n')
      .filter((l) => l.startsWith('data: '))
      .map((l) => l.slice(6));
    expect(events[events.length - 1]).toBe('[DONE]');
    const chunks = events.slice(0, -1).map((e) => JSON.parse(e));
    const text = chunks
      .flatMap((c) => c.choices)
      .map((c: ChatChoice) => c.delta?.content ?? '')
      .join('');
    expect(text).toBe(plain.choices[0].message.content);
    expect(chunks[chunks.length - 1].usage).toEqual(plain.usage);
  });

  test('completions accept text or token prompts and report per-token logprobs', async () => {
    const tok = loadTokenizer(model.modelDir);
    const ids = tok.encode('Once upon a time', { addSpecialTokens: false });
    const byText = JSON.parse(
      (
        await post('/v1/completions', {
          prompt: 'Once upon a time',
          max_tokens: 4,
          seed: 3,
          logprobs: 1,
        })
      ).text,
    );
    const byIds = JSON.parse(
      (await post('/v1/completions', { prompt: ids, max_tokens: 4, seed: 3, logprobs: 1 })).text,
    );
    expect(byIds.choices).toEqual(byText.choices);
    const c = byText.choices[0];
    expect(c.logprobs.tokens.join('')).toBe(c.text);
    expect(c.logprobs.token_logprobs).toHaveLength(c.logprobs.tokens.length);
    expect(byText.usage.prompt_tokens).toBe(ids.length);
  });

  test('top-k logprobs (up to 20, as vLLM): sorted, and greedy picks the top token', async () => {
    const chat = JSON.parse(
      (
        await post('/v1/chat/completions', {
          messages,
          max_tokens: 4,
          temperature: 0,
          logprobs: true,
          top_logprobs: 5,
        })
      ).text,
    );
    const content = chat.choices[0].logprobs.content as {
      token: string;
      logprob: number;
      top_logprobs: { token: string; logprob: number }[];
    }[];
    expect(content.length).toBeGreaterThan(0);
    for (const t of content) {
      expect(t.top_logprobs).toHaveLength(5);
      const lps = t.top_logprobs.map((x) => x.logprob);
      expect([...lps].sort((a, b) => b - a)).toEqual(lps);
      expect(t.top_logprobs[0].logprob).toBeCloseTo(t.logprob, 5); // greedy = the top token
    }
    const cmpl = JSON.parse(
      (await post('/v1/completions', { prompt: 'Once upon', max_tokens: 3, seed: 1, logprobs: 20 }))
        .text,
    );
    const lp = cmpl.choices[0].logprobs;
    expect(lp.top_logprobs).toHaveLength(lp.tokens.length);
    lp.top_logprobs.forEach((top: Record<string, number>, i: number) => {
      const values = Object.values(top);
      expect(values.length).toBeGreaterThan(0);
      expect(values.length).toBeLessThanOrEqual(20); // distinct ids may decode to one text
      expect(Math.max(...values)).toBeGreaterThanOrEqual(lp.token_logprobs[i] - 1e-6);
    });
    const tooMany = await post('/v1/completions', { prompt: 'hi', max_tokens: 2, logprobs: 21 });
    expect(tooMany.status).toBe(400);
    expect(JSON.parse(tooMany.text).detail).toMatch(/at most 20/);
  });

  test('/tokenize and /detokenize round-trip with the folder tokenizer', async () => {
    const tok = loadTokenizer(model.modelDir);
    const t = JSON.parse(
      (await post('/tokenize', { prompt: 'hello world', add_special_tokens: false })).text,
    );
    expect(t.tokens).toEqual(tok.encode('hello world', { addSpecialTokens: false }));
    expect(t.count).toBe(t.tokens.length);
    const d = JSON.parse((await post('/detokenize', { tokens: t.tokens })).text);
    expect(d.prompt).toBe('hello world');
  });

  test.each([
    [
      'an unknown model',
      '/v1/chat/completions',
      { model: 'gpt-9', messages },
      404,
      /the model 'gpt-9' does not exist/,
    ],
    ['a missing messages field', '/v1/chat/completions', { model: 'tiny' }, 400, /messages/],
    ['top_logprobs', '/v1/chat/completions', { messages, top_logprobs: 3 }, 400, /top_logprobs/],
    [
      'too many tokens',
      '/v1/completions',
      { prompt: 'hi', max_tokens: 10_000 },
      400,
      /exceeds the context length 512/,
    ],
    [
      'an out-of-vocabulary id',
      '/detokenize',
      { tokens: [999_999] },
      400,
      /outside the vocabulary/,
    ],
  ])('%s is a precise 4xx', async (_name, path, body, status, detail) => {
    const r = await post(path, body);
    expect(r.status).toBe(status);
    expect(JSON.parse(r.text).detail).toMatch(detail);
  });
});
