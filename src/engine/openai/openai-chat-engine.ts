/**
 * ChatEngine over any OpenAI-compatible server, through the official `openai` SDK: chat and text
 * completions (n > 1, seeds, stop strings, token-id prompts; n > 1 falls back to one request per
 * sample on servers that ignore `n`, as llama.cpp's do), vLLM-style `/tokenize` and
 * `/detokenize`, a per-engine concurrency limit, and the SDK's own retries (5xx, 408, 429,
 * connection errors; exponential backoff honouring Retry-After) and timeouts. Every failure
 * surfaces as a RemoteEngineError carrying the endpoint and HTTP status.
 *
 * Nothing here reads the environment: base URL and key come from the caller (the CLI).
 */
import OpenAI, { APIConnectionTimeoutError, APIError } from 'openai';
import { ConfigurationError, RemoteEngineError, describeError } from '../../core/errors.ts';
import type {
  ChatChoice,
  ChatEngine,
  ChatMessage,
  ChatParams,
  ChatResult,
  FinishReason,
  TokenizeInput,
  TokenUsage,
} from '../chat.ts';
import { Limiter } from './limiter.ts';
import { readChoices } from './response-shape.ts';

export interface OpenAiChatEngineOptions {
  /** e.g. `http://127.0.0.1:8000/v1` (vLLM) or `https://api.openai.com/v1`. */
  readonly baseURL: string;
  /** The model id to request. */
  readonly model: string;
  /** Bearer key; local servers usually accept anything. Default "EMPTY". */
  readonly apiKey?: string;
  /** Per-attempt timeout in ms. Default 600000 (long-context generations are slow). */
  readonly timeoutMs?: number;
  /** Retries after the first attempt (5xx, 408, 409, 429, connection errors). Default 2. */
  readonly maxRetries?: number;
  /** Requests in flight at once from this engine. Default 8. */
  readonly concurrency?: number;
  readonly headers?: Readonly<Record<string, string>>;
}

const FINISH_REASONS: ReadonlySet<string> = new Set([
  'stop',
  'length',
  'content_filter',
  'tool_calls',
]);

function finishReason(raw: unknown): FinishReason {
  if (raw === 'function_call') return 'tool_calls';
  return typeof raw === 'string' && FINISH_REASONS.has(raw) ? (raw as FinishReason) : 'unknown';
}

function usageOf(raw: OpenAI.CompletionUsage | undefined | null): TokenUsage | undefined {
  // A server's usage block is informative only: one that is not three numbers is dropped.
  if (
    typeof raw !== 'object' ||
    raw === null ||
    typeof raw.prompt_tokens !== 'number' ||
    typeof raw.completion_tokens !== 'number' ||
    typeof raw.total_tokens !== 'number'
  ) {
    return undefined;
  }
  return {
    promptTokens: raw.prompt_tokens,
    completionTokens: raw.completion_tokens,
    totalTokens: raw.total_tokens,
  };
}

/** The body fields shared by chat and text completions. */
function samplingBody(params: ChatParams): Record<string, unknown> {
  const body: Record<string, unknown> = {};
  if (params.n !== undefined) body.n = params.n;
  if (params.temperature !== undefined) body.temperature = params.temperature;
  if (params.topP !== undefined) body.top_p = params.topP;
  if (params.maxTokens !== undefined) body.max_tokens = params.maxTokens;
  if (params.seed !== undefined) body.seed = params.seed;
  if (params.stop !== undefined) body.stop = [...params.stop];
  return body;
}

function checkParams(params: ChatParams): void {
  const positive = (name: string, v: number | undefined): void => {
    if (v !== undefined && (!Number.isInteger(v) || v < 1)) {
      throw new ConfigurationError(`${name} must be a positive integer, got ${v}`);
    }
  };
  positive('n', params.n);
  positive('maxTokens', params.maxTokens);
  if (params.temperature !== undefined && !(params.temperature >= 0)) {
    throw new ConfigurationError(`temperature must be >= 0, got ${params.temperature}`);
  }
  if (params.topP !== undefined && !(params.topP > 0 && params.topP <= 1)) {
    throw new ConfigurationError(`topP must be in (0, 1], got ${params.topP}`);
  }
}

function sortByIndex<T extends { index: number }>(choices: readonly T[]): T[] {
  return [...choices].sort((a, b) => a.index - b.index);
}

function sum(xs: readonly number[]): number {
  return xs.reduce((a, b) => a + b, 0);
}

function stripEndpoint(r: ChatResult & { endpoint: string }): ChatResult {
  return { choices: r.choices, model: r.model, ...(r.usage ? { usage: r.usage } : {}) };
}

/**
 * An OpenAI-compatible ChatEngine.
 * @example
 *   const engine = new OpenAiChatEngine({ baseURL: 'http://127.0.0.1:8000/v1', model: 'Qwen/Qwen3-8B' });
 *   const { choices } = await engine.chat([{ role: 'user', content: 'Hi' }], { n: 4, temperature: 0.7 });
 */
export class OpenAiChatEngine implements ChatEngine {
  readonly model: string;
  private readonly client: OpenAI;
  private readonly limiter: Limiter;
  private readonly baseURL: string;
  /** The server root (baseURL without a trailing /v1), where vLLM serves /tokenize. */
  private readonly rootURL: string;
  private readonly timeoutMs: number;
  private readonly maxRetries: number;
  /** Set once the server answered n > 1 with one choice (see sampleN). */
  private ignoresN = false;

  constructor(options: OpenAiChatEngineOptions) {
    let url: URL;
    try {
      url = new URL(options.baseURL);
    } catch {
      throw new ConfigurationError(
        `base URL "${options.baseURL}" is not a URL (expected e.g. http://127.0.0.1:8000/v1)`,
      );
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:') {
      throw new ConfigurationError(`base URL "${options.baseURL}" must be http(s)`);
    }
    if (options.model === '') throw new ConfigurationError('model id must not be empty');
    this.model = options.model;
    this.baseURL = options.baseURL.replace(/\/+$/, '');
    this.rootURL = this.baseURL.replace(/\/v1$/, '');
    this.timeoutMs = options.timeoutMs ?? 600_000;
    this.maxRetries = options.maxRetries ?? 2;
    this.limiter = new Limiter(options.concurrency ?? 8);
    this.client = new OpenAI({
      baseURL: this.baseURL,
      apiKey: options.apiKey ?? 'EMPTY',
      // explicit nulls keep the SDK from reading OPENAI_ORG_ID / OPENAI_PROJECT_ID
      organization: null,
      project: null,
      timeout: this.timeoutMs,
      maxRetries: this.maxRetries,
      fetch: bufferedFetch,
      defaultHeaders: options.headers ? { ...options.headers } : undefined,
    });
  }

  async chat(messages: readonly ChatMessage[], params: ChatParams = {}): Promise<ChatResult> {
    checkParams(params);
    return this.sampleN(params, (p) => this.chatOnce(messages, p));
  }

  async complete(prompt: string | readonly number[], params: ChatParams = {}): Promise<ChatResult> {
    checkParams(params);
    return this.sampleN(params, (p) => this.completeOnce(prompt, p));
  }

  /**
   * n samples. A server that answers n > 1 with a single choice ignores `n` (llama-cpp-python's
   * server does, silently): from then on this engine asks such a server for one sample per
   * request, sample j with seed + j when a seed is set, so the samples stay distinct and
   * reproducible. Any other count than 1 or n is an error.
   */
  private async sampleN(
    params: ChatParams,
    once: (p: ChatParams) => Promise<ChatResult & { endpoint: string }>,
  ): Promise<ChatResult> {
    const n = params.n ?? 1;
    const single = (j: number): ChatParams => ({
      ...params,
      n: 1,
      ...(params.seed !== undefined ? { seed: params.seed + j } : {}),
    });
    const parts: ChatResult[] = [];
    if (n === 1 || !this.ignoresN) {
      const r = await once(params);
      if (r.choices.length === n) return stripEndpoint(r);
      if (n === 1 || r.choices.length !== 1) {
        throw new RemoteEngineError(
          `${r.endpoint} returned ${r.choices.length} choices, expected n=${n}`,
          r.endpoint,
          200,
        );
      }
      this.ignoresN = true;
      parts.push(r);
    }
    const rest = await Promise.all(
      Array.from({ length: n - parts.length }, (_, i) => once(single(parts.length + i))),
    );
    for (const r of rest) {
      if (r.choices.length !== 1) {
        throw new RemoteEngineError(
          `${r.endpoint} returned ${r.choices.length} choices, expected n=1`,
          r.endpoint,
          200,
        );
      }
    }
    parts.push(...rest);
    const usages = parts.map((p) => p.usage);
    const usage = usages.every((u): u is TokenUsage => u !== undefined)
      ? {
          promptTokens: sum(usages.map((u) => u.promptTokens)),
          completionTokens: sum(usages.map((u) => u.completionTokens)),
          totalTokens: sum(usages.map((u) => u.totalTokens)),
        }
      : undefined;
    return {
      choices: parts.flatMap((p) => p.choices),
      model: parts[0].model,
      ...(usage ? { usage } : {}),
    };
  }

  private async chatOnce(
    messages: readonly ChatMessage[],
    params: ChatParams,
  ): Promise<ChatResult & { endpoint: string }> {
    const body: Record<string, unknown> = {
      model: this.model,
      messages: messages.map((m) => ({ ...m })),
      ...samplingBody(params),
    };
    if (params.enableThinking !== undefined) {
      body.chat_template_kwargs = { enable_thinking: params.enableThinking };
    }
    Object.assign(body, params.extraBody);
    const res = await this.call('/chat/completions', () =>
      this.client.chat.completions.create(
        body as unknown as OpenAI.ChatCompletionCreateParamsNonStreaming,
      ),
    );
    const choices = this.choicesOf(res, '/chat/completions', 'chat');
    return this.result('/chat/completions', choices, res.usage, res.model);
  }

  private async completeOnce(
    prompt: string | readonly number[],
    params: ChatParams,
  ): Promise<ChatResult & { endpoint: string }> {
    const body: Record<string, unknown> = {
      model: this.model,
      prompt: typeof prompt === 'string' ? prompt : [...prompt],
      ...samplingBody(params),
      ...params.extraBody,
    };
    const res = await this.call('/completions', () =>
      this.client.completions.create(body as unknown as OpenAI.CompletionCreateParamsNonStreaming),
    );
    const choices = this.choicesOf(res, '/completions', 'text');
    return this.result('/completions', choices, res.usage, res.model);
  }

  async tokenize(input: TokenizeInput): Promise<number[]> {
    const body: Record<string, unknown> =
      'text' in input
        ? {
            model: this.model,
            prompt: input.text,
            add_special_tokens: input.addSpecialTokens ?? true,
          }
        : {
            model: this.model,
            messages: input.messages.map((m) => ({ ...m })),
            add_generation_prompt: input.addGenerationPrompt ?? false,
          };
    const url = `${this.rootURL}/tokenize`;
    const res = await this.call('/tokenize', () => this.client.post<unknown>(url, { body }), url);
    const tokens = (res as { tokens?: unknown } | null)?.tokens;
    if (!Array.isArray(tokens) || !tokens.every((t) => Number.isInteger(t))) {
      throw new RemoteEngineError(
        `${url} answered without an integer "tokens" list`,
        url,
        200,
        res,
      );
    }
    return tokens as number[];
  }

  async detokenize(ids: readonly number[]): Promise<string> {
    const url = `${this.rootURL}/detokenize`;
    const body = { model: this.model, tokens: [...ids] };
    const res = await this.call('/detokenize', () => this.client.post<unknown>(url, { body }), url);
    const prompt = (res as { prompt?: unknown } | null)?.prompt;
    if (typeof prompt !== 'string') {
      throw new RemoteEngineError(`${url} answered without a string "prompt"`, url, 200, res);
    }
    return prompt;
  }

  /** The body's choices in index order, its shape checked (see response-shape.ts). */
  private choicesOf(res: unknown, path: string, kind: 'chat' | 'text'): ChatChoice[] {
    return sortByIndex(readChoices(res, `${this.baseURL}${path}`, kind)).map((c) => ({
      text: c.text,
      finishReason: finishReason(c.finishReason),
      ...(c.reasoning !== undefined ? { reasoning: c.reasoning } : {}),
    }));
  }

  private result(
    path: string,
    choices: ChatChoice[],
    usage: OpenAI.CompletionUsage | undefined | null,
    model: string | undefined,
  ): ChatResult & { endpoint: string } {
    const u = usageOf(usage);
    return {
      choices,
      model: model ?? this.model,
      ...(u ? { usage: u } : {}),
      endpoint: `${this.baseURL}${path}`,
    };
  }

  /** Run one SDK call under the concurrency limit, turning SDK errors into RemoteEngineError. */
  private async call<T>(
    path: string,
    send: () => Promise<T>,
    endpoint = `${this.baseURL}${path}`,
  ): Promise<T> {
    return this.limiter.run(async () => {
      try {
        return await send();
      } catch (err) {
        throw toRemoteError(err, endpoint, this.timeoutMs, this.maxRetries + 1);
      }
    });
  }
}

/**
 * The SDK's per-attempt timeout stops at the response headers: its timer is cleared once `fetch`
 * resolves, so a server that sends headers and then stalls mid-body would hang the request for
 * ever. Reading the whole body inside `fetch` keeps the body under the same timer (the SDK's abort
 * signal cancels the read, which it then reports and retries as a timeout). Replies here are
 * small JSON documents; nothing streams.
 */
const bufferedFetch = async (input: string | URL | Request, init?: RequestInit) => {
  const res = await fetch(input, init);
  const body = res.status === 204 || res.status === 304 ? null : await res.arrayBuffer();
  return new Response(body, {
    status: res.status,
    statusText: res.statusText,
    headers: res.headers,
  });
};

function toRemoteError(
  err: unknown,
  endpoint: string,
  timeoutMs: number,
  attempts: number,
): unknown {
  if (err instanceof APIConnectionTimeoutError) {
    const tries = attempts === 1 ? '1 attempt' : `each of ${attempts} attempts`;
    return new RemoteEngineError(
      `${endpoint} did not answer within the ${timeoutMs / 1000} s timeout (${tries})`,
      endpoint,
      undefined,
      undefined,
      { cause: err },
    );
  }
  if (err instanceof SyntaxError) {
    // The SDK parses a JSON content-type body itself; a cut or garbled one lands here.
    return new RemoteEngineError(
      `${endpoint} answered with a body that is not JSON (${err.message})`,
      endpoint,
      undefined,
      undefined,
      { cause: err },
    );
  }
  if (err instanceof APIError) {
    const status = typeof err.status === 'number' ? err.status : undefined;
    const what = status === undefined ? 'could not be reached' : `answered HTTP ${status}`;
    return new RemoteEngineError(
      `${endpoint} ${what}: ${describeError(err)}`,
      endpoint,
      status,
      err.error,
      {
        cause: err,
      },
    );
  }
  return err;
}
