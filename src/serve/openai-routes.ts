/**
 * OpenAI-compatible and vLLM-style routes of `spell serve`, sampling the base model:
 * `GET /v1/models`, `POST /v1/chat/completions` and `POST /v1/completions` (streaming or not, `n`,
 * `seed`, string `stop`, logprobs of the sampled tokens), `POST /tokenize`, `POST /detokenize`.
 * Prompts are rendered with the model folder's own chat template and tokenizer (src/text/), so
 * the ids match what the SPELL controller sends to a PolicyEngine.
 *
 * Log-probs: chat `logprobs` + `top_logprobs` ≤ 20 and completions `logprobs` ≤ 20 (vLLM's limits;
 * OpenAI stops at 20 and 5) report the raw policy's top tokens at each sampled position.
 *
 * Differences from OpenAI/vLLM, on purpose: the engine samples whole sequences, so a stream sends
 * the text token by token only after sampling finished; `echo`, tools, `logit_bias`,
 * `response_format` and `best_of` are refused with a 400 rather than silently ignored.
 *
 * Hostile input: prompts are tokenized in a worker thread (tokenizer-pool.ts), and a chat or
 * completion prompt too long to fit the context by its length alone is refused before tokenizing.
 * Sampling is admitted against the server's KV budget (kv-budget.ts), runs batched with other
 * requests, and stops when the client hangs up — skipped if it still waited, stopped between two
 * decode steps if it was running.
 */
import type { ServerResponse } from 'node:http';
import { z } from 'zod';
import type { SampledSequence, SamplingParams } from '../engine/types.ts';
import { renderChat, type ChatMessage, type RenderOptions } from '../text/chat.ts';
import type { HfTokenizer } from '../text/tokenizer.ts';
import { HttpError, parseBody } from './http-util.ts';
import type { PromptEncoder } from './tokenizer-pool.ts';
import type { ExtraRoutes } from './server.ts';
import type { TinkerService } from './tinker-service.ts';

const finite = z.number().refine(Number.isFinite, 'expected a finite number');
const stopString = z.string().max(1000);
const stopSchema = z.union([stopString, z.array(stopString).max(16)]).nullish();

/** OpenAI request fields spell cannot honour; sent non-null they are a 400, not silently dropped. */
const UNSUPPORTED = [
  'tools',
  'tool_choice',
  'functions',
  'function_call',
  'logit_bias',
  'response_format',
  'best_of',
  'suffix',
] as const;

function refuseUnsupported(body: unknown, route: string): void {
  if (typeof body !== 'object' || body === null) return;
  const rec = body as Record<string, unknown>;
  for (const key of UNSUPPORTED) {
    if (rec[key] !== undefined && rec[key] !== null) {
      throw new HttpError(400, `invalid ${route} request: ${key} is not supported by spell serve`);
    }
  }
}
const commonFields = {
  model: z.string().optional(),
  temperature: finite.refine((v) => v >= 0 && v <= 2, 'expected 0 <= temperature <= 2').nullish(),
  top_p: finite.refine((v) => v > 0 && v <= 1, 'expected 0 < top_p <= 1').nullish(),
  top_k: z.int().min(-1).nullish(),
  n: z.int().min(1).max(64).nullish(),
  seed: z.int().nullish(),
  stop: stopSchema,
  stream: z.boolean().nullish(),
  stream_options: z.object({ include_usage: z.boolean().optional() }).nullish(),
  max_tokens: z.int().min(1).nullish(),
};

const chatSchema = z.object({
  ...commonFields,
  messages: z
    .array(
      z.object({
        role: z.enum(['system', 'user', 'assistant', 'tool']),
        content: z.string(),
        reasoning_content: z.string().optional(),
      }),
    )
    .min(1),
  max_completion_tokens: z.int().min(1).nullish(),
  logprobs: z.boolean().nullish(),
  top_logprobs: z.int().min(0).max(20, 'expected at most 20 (as vLLM)').nullish(),
  chat_template_kwargs: z.record(z.string(), z.unknown()).nullish(),
});

const completionSchema = z.object({
  ...commonFields,
  prompt: z.union([
    z.string(),
    z.array(z.string()).min(1),
    z.array(z.int().min(0)).min(1),
    z.array(z.array(z.int().min(0)).min(1)).min(1),
  ]),
  logprobs: z.int().min(0).max(20, 'expected at most 20 (as vLLM)').nullish(),
  echo: z.literal(false).nullish(),
});

const tokenizeSchema = z.union([
  z.object({
    model: z.string().optional(),
    prompt: z.string(),
    add_special_tokens: z.boolean().optional(),
  }),
  z.object({
    model: z.string().optional(),
    messages: chatSchema.shape.messages,
    add_generation_prompt: z.boolean().optional(),
  }),
]);
const detokenizeSchema = z.object({
  model: z.string().optional(),
  tokens: z.array(z.int().min(0)),
});

interface Choice {
  readonly text: string;
  readonly seq: SampledSequence;
  readonly finish: 'stop' | 'length';
  /** The sampled tokens that produced `text` (cut at a string stop). */
  readonly tokens: number[];
}

export interface OpenAiRoutesOptions {
  readonly modelName: string;
  readonly tokenizer: HfTokenizer;
  readonly maxContext: number;
  /** Where prompts are tokenized (default: in this thread, with `tokenizer`). */
  readonly encoder?: PromptEncoder;
}

/** A PromptEncoder running in the calling thread (tests, small tools). */
export function inThreadEncoder(tok: HfTokenizer): PromptEncoder {
  let longest: number | undefined;
  return {
    encode: (text, addSpecialTokens) => Promise.resolve(tok.encode(text, { addSpecialTokens })),
    renderChat: (messages: readonly ChatMessage[], options: RenderOptions) =>
      Promise.resolve(renderChat(tok, messages, options).ids),
    longestTokenChars: () => {
      if (longest === undefined) {
        longest = 1;
        for (let id = 0; id < tok.vocabSize; id++) {
          longest = Math.max(longest, tok.idToToken(id)?.length ?? 0);
        }
      }
      return Promise.resolve(longest);
    },
    close: () => Promise.resolve(),
  };
}

/** Build the routes; sampling goes through the service's base engine (serialised with Tinker use). */
export function openAiRoutes(service: TinkerService, opts: OpenAiRoutesOptions): ExtraRoutes {
  const tok = opts.tokenizer;
  const encoder = opts.encoder ?? inThreadEncoder(tok);
  const stopIds = tok.endOfTurnIds();

  const checkModel = (model: string | undefined): void => {
    if (model !== undefined && model !== opts.modelName) {
      throw new HttpError(
        404,
        `the model '${model}' does not exist; this server serves '${opts.modelName}'`,
      );
    }
  };

  /**
   * Refuse a prompt of `chars` characters that cannot fit the context whatever its tokens: one
   * token covers at most the longest vocabulary entry (×2 leaves room for normalisation).
   */
  const checkLength = async (chars: number, what: string): Promise<void> => {
    const longest = await encoder.longestTokenChars();
    const limit = 2 * longest * opts.maxContext;
    if (chars > limit) {
      throw new HttpError(
        400,
        `${what} of ${chars} characters cannot fit the context length of ${opts.maxContext} tokens (refused without tokenizing above ${limit} characters)`,
      );
    }
  };

  const generate = async (
    prompt: number[],
    b: z.infer<z.ZodObject<typeof commonFields>>,
    maxTokens: number,
    signal: AbortSignal,
    topLogprobs = 0,
  ): Promise<Choice[]> => {
    if (prompt.length + maxTokens > opts.maxContext) {
      throw new HttpError(
        400,
        `prompt (${prompt.length} tokens) + max_tokens (${maxTokens}) exceeds the context length ${opts.maxContext}`,
      );
    }
    const stops = b.stop == null ? [] : typeof b.stop === 'string' ? [b.stop] : b.stop;
    const singleTokenStops = stops
      .map((s) => tok.encode(s, { addSpecialTokens: false }))
      .filter((ids) => ids.length === 1)
      .map((ids) => ids[0]);
    const params: SamplingParams = {
      maxTokens,
      temperature: b.temperature ?? 1,
      topP: b.top_p ?? 1,
      topK: b.top_k ?? -1,
      stopTokenIds: [...stopIds, ...singleTokenStops],
      ...(b.seed != null ? { seed: b.seed } : {}),
    };
    const n = b.n ?? 1;
    // The sample stops (even mid-decode) when the client hangs up or the server closes.
    const stop = AbortSignal.any([signal, service.closing]);
    const r = await service.kv.claim(n * (prompt.length + maxTokens), 'this request', () =>
      service.base.run(
        (e) =>
          e.sample(
            {
              prompt,
              numSamples: n,
              params,
              ...(topLogprobs > 0 ? { topLogprobs } : {}),
            },
            stop,
          ),
        stop,
        'shared',
      ),
    );
    return r.sequences.map((seq) => cutAtStop(tok, seq, stops, new Set(stopIds)));
  };

  const chat = async (
    body: unknown,
    res: ServerResponse,
    signal: AbortSignal,
  ): Promise<unknown> => {
    refuseUnsupported(body, 'chat.completions');
    const b = parseBody(chatSchema, body, 'chat.completions');
    checkModel(b.model);
    const kwargs = b.chat_template_kwargs ?? {};
    const thinking = kwargs.enable_thinking;
    await checkLength(messageChars(b.messages), 'the conversation');
    const prompt = await encoder.renderChat(b.messages, {
      addGenerationPrompt: true,
      ...(typeof thinking === 'boolean' ? { enableThinking: thinking } : {}),
      templateKwargs: kwargs,
    });
    const maxTokens =
      b.max_completion_tokens ??
      b.max_tokens ??
      Math.max(1, Math.min(256, opts.maxContext - prompt.length));
    if (b.top_logprobs != null && b.top_logprobs > 0 && !b.logprobs) {
      throw new HttpError(400, 'top_logprobs needs logprobs: true (as OpenAI requires)');
    }
    const choices = await generate(
      prompt,
      b,
      maxTokens,
      signal,
      b.logprobs ? (b.top_logprobs ?? 0) : 0,
    );
    const id = `chatcmpl-${Date.now().toString(36)}`;
    const created = Math.floor(Date.now() / 1000);
    const usage = usageOf(prompt, choices);
    const lp = (c: Choice): unknown =>
      b.logprobs
        ? {
            content: c.tokens.map((t, i) => {
              const token = tok.decode([t]);
              return {
                token,
                logprob: c.seq.logprobs[i],
                bytes: [...Buffer.from(token)],
                top_logprobs: (c.seq.topLogprobs?.[i] ?? []).map(([id, logprob]) => {
                  const text = tok.decode([id]);
                  return { token: text, logprob, bytes: [...Buffer.from(text)] };
                }),
              };
            }),
          }
        : null;
    if (b.stream) {
      const base = { id, object: 'chat.completion.chunk', created, model: opts.modelName };
      const events: unknown[] = [];
      choices.forEach((c, index) => {
        events.push({
          ...base,
          choices: [{ index, delta: { role: 'assistant', content: '' }, finish_reason: null }],
        });
        for (const piece of pieces(tok, c.tokens, c.text)) {
          events.push({
            ...base,
            choices: [{ index, delta: { content: piece }, finish_reason: null }],
          });
        }
        events.push({
          ...base,
          choices: [{ index, delta: {}, logprobs: lp(c), finish_reason: c.finish }],
        });
      });
      if (b.stream_options?.include_usage) events.push({ ...base, choices: [], usage });
      writeSse(res, events);
      return undefined;
    }
    return {
      id,
      object: 'chat.completion',
      created,
      model: opts.modelName,
      choices: choices.map((c, index) => ({
        index,
        message: { role: 'assistant', content: c.text },
        logprobs: lp(c),
        finish_reason: c.finish,
      })),
      usage,
    };
  };

  const completions = async (
    body: unknown,
    res: ServerResponse,
    signal: AbortSignal,
  ): Promise<unknown> => {
    refuseUnsupported(body, 'completions');
    const b = parseBody(completionSchema, body, 'completions');
    checkModel(b.model);
    const texts = typeof b.prompt === 'string' ? [b.prompt] : b.prompt;
    for (const p of texts) if (typeof p === 'string') await checkLength(p.length, 'a prompt');
    const prompts = await toPrompts(encoder, b.prompt);
    const all: Choice[] = [];
    const promptTokens: number[] = [];
    for (const prompt of prompts) {
      const maxTokens = b.max_tokens ?? 16;
      all.push(...(await generate(prompt, b, maxTokens, signal, b.logprobs ?? 0)));
      promptTokens.push(...prompt);
    }
    const id = `cmpl-${Date.now().toString(36)}`;
    const created = Math.floor(Date.now() / 1000);
    const usage = usageOf(promptTokens, all);
    const lp = (c: Choice): unknown => {
      if (b.logprobs == null) return null;
      const tokens = c.tokens.map((t) => tok.decode([t]));
      const offsets: number[] = [];
      let at = 0;
      for (const t of tokens) {
        offsets.push(at);
        at += t.length;
      }
      return {
        tokens,
        token_logprobs: c.seq.logprobs.slice(0, c.tokens.length),
        // As vLLM: the top `logprobs` tokens of each position (a dict text → logprob).
        top_logprobs:
          b.logprobs > 0
            ? c.tokens.map((_, i) =>
                Object.fromEntries(
                  (c.seq.topLogprobs?.[i] ?? []).map(([id, lp]) => [tok.decode([id]), lp]),
                ),
              )
            : null,
        text_offset: offsets,
      };
    };
    if (b.stream) {
      const base = { id, object: 'text_completion', created, model: opts.modelName };
      const events: unknown[] = [];
      all.forEach((c, index) => {
        for (const piece of pieces(tok, c.tokens, c.text)) {
          events.push({
            ...base,
            choices: [{ index, text: piece, logprobs: null, finish_reason: null }],
          });
        }
        events.push({
          ...base,
          choices: [{ index, text: '', logprobs: lp(c), finish_reason: c.finish }],
        });
      });
      if (b.stream_options?.include_usage) events.push({ ...base, choices: [], usage });
      writeSse(res, events);
      return undefined;
    }
    return {
      id,
      object: 'text_completion',
      created,
      model: opts.modelName,
      choices: all.map((c, index) => ({
        index,
        text: c.text,
        logprobs: lp(c),
        finish_reason: c.finish,
      })),
      usage,
    };
  };

  // Texts longer than the context are legal here (eval truncates long documents by their ids).
  const tokenize = async (body: unknown): Promise<unknown> => {
    const b = parseBody(tokenizeSchema, body, 'tokenize');
    checkModel(b.model);
    const tokens =
      'prompt' in b
        ? await encoder.encode(b.prompt, b.add_special_tokens ?? true)
        : await encoder.renderChat(b.messages, {
            addGenerationPrompt: b.add_generation_prompt ?? true,
          });
    return { count: tokens.length, max_model_len: opts.maxContext, tokens };
  };

  const detokenize = (body: unknown): Promise<unknown> => {
    const b = parseBody(detokenizeSchema, body, 'detokenize');
    checkModel(b.model);
    const bad = b.tokens.find((t) => t >= tok.vocabSize);
    if (bad !== undefined)
      throw new HttpError(400, `token id ${bad} is outside the vocabulary (size ${tok.vocabSize})`);
    return Promise.resolve({ prompt: tok.decode(b.tokens) });
  };

  const models = (): Promise<unknown> =>
    Promise.resolve({
      object: 'list',
      data: [
        {
          id: opts.modelName,
          object: 'model',
          created: 0,
          owned_by: 'spell',
          max_model_len: opts.maxContext,
        },
      ],
    });

  return {
    get: new Map([['/v1/models', models]]),
    post: new Map([
      ['/v1/chat/completions', chat],
      ['/v1/completions', completions],
      ['/tokenize', tokenize],
      ['/detokenize', detokenize],
    ]),
  };
}

/**
 * Turn a sampled sequence into an OpenAI choice: drop a final stop token from the text, cut at the
 * first string stop (the stop string itself is not returned, as OpenAI does).
 */
export function cutAtStop(
  tok: HfTokenizer,
  seq: SampledSequence,
  stops: readonly string[],
  stopIds: ReadonlySet<number>,
): Choice {
  let tokens = seq.tokens;
  let finish: 'stop' | 'length' = seq.stopReason;
  const last = tokens[tokens.length - 1];
  if (seq.stopReason === 'stop' && last !== undefined && stopIds.has(last))
    tokens = tokens.slice(0, -1);
  let text = tok.decode(tokens, { skipSpecialTokens: true });
  let cut = -1;
  for (const s of stops) {
    const at = s.length > 0 ? text.indexOf(s) : -1;
    if (at >= 0 && (cut < 0 || at < cut)) cut = at;
  }
  if (cut >= 0) {
    text = text.slice(0, cut);
    finish = 'stop';
    // Keep the shortest token prefix whose text covers the cut text.
    let n = 0;
    while (
      n < tokens.length &&
      tok.decode(tokens.slice(0, n), { skipSpecialTokens: true }).length < cut
    )
      n++;
    tokens = tokens.slice(0, n);
  }
  return { text, seq, finish, tokens };
}

async function toPrompts(
  encoder: PromptEncoder,
  p: string | string[] | number[] | number[][],
): Promise<number[][]> {
  if (typeof p === 'string') return [await encoder.encode(p, false)];
  if (p.length > 0 && typeof p[0] === 'number') return [p as number[]];
  const out: number[][] = [];
  for (const x of p as (string | number[])[]) {
    out.push(typeof x === 'string' ? await encoder.encode(x, false) : x);
  }
  return out;
}

function messageChars(messages: readonly ChatMessage[]): number {
  let n = 0;
  for (const m of messages) n += m.content.length + (m.reasoning_content?.length ?? 0);
  return n;
}

function usageOf(prompt: readonly number[], choices: readonly Choice[]): Record<string, number> {
  const completion = choices.reduce((n, c) => n + c.tokens.length, 0);
  return {
    prompt_tokens: prompt.length,
    completion_tokens: completion,
    total_tokens: prompt.length + completion,
  };
}

/** The text split into per-token increments (decoding growing prefixes keeps multi-byte chars whole). */
function pieces(tok: HfTokenizer, tokens: readonly number[], text: string): string[] {
  const out: string[] = [];
  let prev = '';
  for (let i = 1; i <= tokens.length; i++) {
    const cur = tok.decode(tokens.slice(0, i), { skipSpecialTokens: true });
    if (cur.length > prev.length && !cur.endsWith('\uFFFD') && text.startsWith(cur)) {
      out.push(cur.slice(prev.length));
      prev = cur;
    }
  }
  if (prev.length < text.length) out.push(text.slice(prev.length));
  return out;
}

function writeSse(res: ServerResponse, events: readonly unknown[]): void {
  res.writeHead(200, {
    'content-type': 'text/event-stream',
    'cache-control': 'no-cache',
    connection: 'keep-alive',
  });
  for (const e of events) res.write(`data: ${JSON.stringify(e)}\n\n`);
  res.end('data: [DONE]\n\n');
}
