/**
 * The chat-completion port: messages (or a raw prompt) in, n generated texts out, over the
 * OpenAI-compatible API that vLLM, SGLang, llama.cpp server, `spell serve` and hosted APIs speak.
 * Used where token-level training data is not needed: evaluation, an external LLM judge, and SPELL
 * data generation without training. Training goes through PolicyEngine (types.ts) instead.
 */
import type { ChatMessage } from '../text/index.ts';

export type { ChatMessage, ChatRole } from '../text/index.ts';

/** Why a choice stopped: a stop condition, the token cap, a filter, a tool call, or unreported. */
export type FinishReason = 'stop' | 'length' | 'content_filter' | 'tool_calls' | 'unknown';

export interface ChatParams {
  /** Completions per request. Default 1. */
  readonly n?: number;
  /** Omitted → the server's default; 0 means greedy. */
  readonly temperature?: number;
  readonly topP?: number;
  /** Cap on generated tokens per choice. Omitted → the server's default. */
  readonly maxTokens?: number;
  /** Same seed + same server state → same outputs, where the server honours seeds. */
  readonly seed?: number;
  /** Stop strings (not included in the returned text). */
  readonly stop?: readonly string[];
  /**
   * Qwen3-style thinking switch, sent as `chat_template_kwargs.enable_thinking` (vLLM, SGLang,
   * `spell serve`). Chat only; omitted → the template's default.
   */
  readonly enableThinking?: boolean;
  /** Extra JSON body fields for server-specific options (e.g. vLLM's `top_k`). */
  readonly extraBody?: Readonly<Record<string, unknown>>;
}

export interface ChatChoice {
  readonly text: string;
  readonly finishReason: FinishReason;
  /** Separated reasoning, when the server splits it out (`reasoning_content`). */
  readonly reasoning?: string;
}

export interface TokenUsage {
  readonly promptTokens: number;
  readonly completionTokens: number;
  readonly totalTokens: number;
}

export interface ChatResult {
  /** In the server's choice-index order; length n. */
  readonly choices: ChatChoice[];
  /** Absent when the server does not report usage. */
  readonly usage?: TokenUsage;
  /** The model the server says answered. */
  readonly model: string;
}

export interface ChatEngine {
  /** The model id requests are sent for. */
  readonly model: string;
  /** Chat completion: the server applies the model's chat template. */
  chat(messages: readonly ChatMessage[], params?: ChatParams): Promise<ChatResult>;
  /** Raw completion of a prompt given as text or as token ids (no chat template applied). */
  complete(prompt: string | readonly number[], params?: ChatParams): Promise<ChatResult>;
  /** Server-side tokenization (vLLM-style `/tokenize`), where the server offers it. */
  tokenize?(input: TokenizeInput): Promise<number[]>;
  /** Server-side detokenization (vLLM-style `/detokenize`), where the server offers it. */
  detokenize?(ids: readonly number[]): Promise<string>;
}

/** What `/tokenize` accepts: a text, or messages rendered with the server's chat template. */
export type TokenizeInput =
  | { readonly text: string; readonly addSpecialTokens?: boolean }
  | { readonly messages: readonly ChatMessage[]; readonly addGenerationPrompt?: boolean };
