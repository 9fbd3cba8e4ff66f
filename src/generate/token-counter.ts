/**
 * Token counting for prompt budgets and the QA answer-length check, from the best source there
 * is: a local tokenizer folder (`--tokenizer`, exact, chat template applied), else the endpoint's
 * vLLM-style `/tokenize` (exact for that server), else an estimate of 4 characters per token
 * (the run says so; budgets are then approximate).
 */
import { RemoteEngineError } from '../core/errors.ts';
import type { ChatEngine, ChatMessage } from '../engine/chat.ts';
import { renderChat, type HfTokenizer } from '../text/index.ts';

export type TokenCountSource = 'tokenizer' | 'endpoint' | 'estimate';

export interface TokenCounter {
  readonly source: TokenCountSource;
  /** Tokens of a plain text, without special tokens. */
  text(text: string): Promise<number>;
  /** Tokens of a one-turn chat prompt as the server will see it (generation prompt added). */
  prompt(userText: string): Promise<number>;
}

/** Characters per token assumed by the estimate (typical of English BPE vocabularies). */
export const CHARS_PER_TOKEN = 4;
/** Allowance for the chat template's wrapping when estimating. */
const TEMPLATE_ALLOWANCE = 16;

function estimate(text: string): number {
  return Math.ceil(text.length / CHARS_PER_TOKEN);
}

/** The estimate-only counter. */
export function estimatingCounter(): TokenCounter {
  return {
    source: 'estimate',
    text: (t) => Promise.resolve(estimate(t)),
    prompt: (t) => Promise.resolve(estimate(t) + TEMPLATE_ALLOWANCE),
  };
}

/** Exact counts with a local tokenizer folder. */
export function tokenizerCounter(tok: HfTokenizer): TokenCounter {
  return {
    source: 'tokenizer',
    text: (t) => Promise.resolve(tok.encode(t, { addSpecialTokens: false }).length),
    prompt: (t) =>
      Promise.resolve(
        renderChat(tok, [{ role: 'user', content: t }], { addGenerationPrompt: true }).ids.length,
      ),
  };
}

/**
 * Counts through the endpoint's `/tokenize` when it answers; otherwise the estimate, reported
 * through `onFallback` once.
 */
export async function endpointCounter(
  engine: ChatEngine,
  onFallback: (why: string) => void,
): Promise<TokenCounter> {
  const tokenize = engine.tokenize?.bind(engine);
  if (tokenize === undefined) {
    onFallback('the engine has no /tokenize');
    return estimatingCounter();
  }
  try {
    await tokenize({ text: 'probe', addSpecialTokens: false });
  } catch (err) {
    if (!(err instanceof RemoteEngineError)) throw err;
    onFallback(`${err.endpoint} is not available (${err.status ?? 'no answer'})`);
    return estimatingCounter();
  }
  const messages = (t: string): ChatMessage[] => [{ role: 'user', content: t }];
  return {
    source: 'endpoint',
    text: async (t) => (await tokenize({ text: t, addSpecialTokens: false })).length,
    prompt: async (t) =>
      (await tokenize({ messages: messages(t), addGenerationPrompt: true })).length,
  };
}
