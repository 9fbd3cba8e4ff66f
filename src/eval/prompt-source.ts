/**
 * Turns one user message into the final prompt string sent to `/v1/completions`: the evaluated
 * model's chat template (generation prompt on, the template's own thinking default), encoded the
 * way the reference does (`add_special_tokens` on), middle-truncated to the input budget, and
 * decoded back with special tokens kept.
 *
 * Two sources of the tokenizer and template: a local HF tokenizer folder (`--tokenizer`), or the
 * serving endpoint's vLLM-style `/tokenize` (with `messages`, so the server's template applies)
 * and `/detokenize`. Both give the same text for the same model.
 */
import { ConfigurationError } from '../core/errors.ts';
import type { ChatEngine } from '../engine/chat.ts';
import { renderChatText, type HfTokenizer } from '../text/index.ts';
import { middleTruncate } from './truncate.ts';

/** The prompt actually sent, with its token accounting. */
export interface FinalPrompt {
  readonly text: string;
  /** Token count after truncation (the ids the text was decoded from). */
  readonly tokens: number;
  /** Token count of the whole templated prompt. */
  readonly originalTokens: number;
  readonly truncated: boolean;
}

/** Builds final prompts from user messages. */
export interface PromptSource {
  /** Where the tokenizer comes from, for the run record. */
  readonly description: string;
  build(userMessage: string, maxInputLen: number): Promise<FinalPrompt>;
}

/** A prompt source over a local HF tokenizer folder (exactly the reference's procedure). */
export function localPromptSource(tok: HfTokenizer): PromptSource {
  return {
    description: `tokenizer folder ${tok.dir}`,
    build(userMessage, maxInputLen) {
      const templated = renderChatText(tok, [{ role: 'user', content: userMessage }], {
        addGenerationPrompt: true,
      });
      const ids = tok.encode(templated);
      const cut = middleTruncate(ids, maxInputLen);
      return Promise.resolve({
        text: cut.truncated ? tok.decode(cut.ids, { skipSpecialTokens: false }) : templated,
        tokens: cut.ids.length,
        originalTokens: ids.length,
        truncated: cut.truncated,
      });
    },
  };
}

/**
 * A prompt source over the endpoint's `/tokenize` + `/detokenize`.
 * @throws ConfigurationError when the engine offers neither (pass --tokenizer instead)
 */
export function endpointPromptSource(engine: ChatEngine): PromptSource {
  const noTokenizer = (): ConfigurationError =>
    new ConfigurationError(
      'no tokenizer for prompt truncation: pass --tokenizer <HF tokenizer folder>, or use an endpoint with /tokenize and /detokenize',
    );
  if (engine.tokenize === undefined || engine.detokenize === undefined) throw noTokenizer();
  return {
    description: `endpoint /tokenize for ${engine.model}`,
    async build(userMessage, maxInputLen) {
      if (engine.tokenize === undefined || engine.detokenize === undefined) throw noTokenizer();
      const ids = await engine.tokenize({
        messages: [{ role: 'user', content: userMessage }],
        addGenerationPrompt: true,
      });
      const cut = middleTruncate(ids, maxInputLen);
      return {
        text: await engine.detokenize(cut.ids),
        tokens: cut.ids.length,
        originalTokens: ids.length,
        truncated: cut.truncated,
      };
    },
  };
}

/**
 * Check that the endpoint really answers /tokenize before a long run starts, so a server without
 * it fails at once with advice instead of on every question.
 */
export async function probeEndpointTokenizer(engine: ChatEngine): Promise<void> {
  const source = endpointPromptSource(engine);
  try {
    await source.build('ping', 64);
  } catch (err) {
    throw new ConfigurationError(
      `the endpoint cannot tokenize (${err instanceof Error ? err.message : String(err)}); pass --tokenizer <HF tokenizer folder, or the model's .gguf>`,
      { cause: err },
    );
  }
}
