/**
 * Text examples → token sequences the model trains on, rendered exactly as `spell train` renders
 * role prompts (src/train/policy.ts): the user message through the chat template with the
 * generation prompt (thinking disabled by default, as in the local preset), then the answer's
 * tokens and the end-of-turn token `<|im_end|>`. The prompt and answer are tokenized separately,
 * because at sampling time the model continues from the prompt's last token; that makes the
 * answer's tokenization the one the model must learn to produce.
 *
 * Loss weights are 0 on prompt positions and 1 on answer positions (every position for plain
 * language modelling). No I/O; the tokenizer is passed in.
 */
import type { Datum } from '../engine/types.ts';
import { renderChat } from '../text/chat.ts';
import type { HfTokenizer } from '../text/tokenizer.ts';
import type { ExampleRole, TextExample } from './examples.ts';

/** A tokenized example: `ids[0..promptTokens)` is the prompt, the rest is trained on. */
export interface EncodedExample {
  readonly role: ExampleRole;
  readonly ids: readonly number[];
  /** Leading positions that carry no loss (0 for language modelling). */
  readonly promptTokens: number;
}

export interface EncodeOptions {
  /** Chat-template flag; must match `rollout.enableThinking` of the runs that use the model. */
  readonly enableThinking: boolean;
  /** Language-modelling texts are cut to this many tokens. */
  readonly maxLmTokens: number;
}

/** The token that ends an assistant turn in the ChatML template. */
export function endOfTurnId(tok: HfTokenizer): number {
  return tok.requireTokenId('<|im_end|>');
}

/** Tokenize one example. */
export function encodeExample(
  tok: HfTokenizer,
  ex: TextExample,
  opts: EncodeOptions,
): EncodedExample {
  if (ex.prompt === undefined) {
    const ids = tok.encode(ex.target, { addSpecialTokens: false }).slice(0, opts.maxLmTokens);
    return { role: ex.role, ids, promptTokens: 0 };
  }
  const prompt = renderChat(tok, [{ role: 'user', content: ex.prompt }], {
    addGenerationPrompt: true,
    enableThinking: opts.enableThinking,
  }).ids;
  const answer = tok.encode(ex.target, { addSpecialTokens: false });
  return {
    role: ex.role,
    ids: [...prompt, ...answer, endOfTurnId(tok)],
    promptTokens: prompt.length,
  };
}

/** Positions of `ex` that carry loss (targets predicted from the previous token). */
export function trainedTokens(ex: EncodedExample): number {
  return ex.ids.length - Math.max(1, ex.promptTokens);
}

/**
 * The engine datum of an example: position t predicts ids[t+1]; its weight is `scale` when
 * ids[t+1] belongs to the trained part, else 0. A `scale` of 1/(trained tokens in the batch)
 * makes the summed cross-entropy a token mean.
 */
export function toDatum(ex: EncodedExample, scale: number): Datum {
  const T = ex.ids.length - 1;
  const firstTrained = Math.max(1, ex.promptTokens);
  const weights = new Array<number>(T);
  for (let t = 0; t < T; t++) weights[t] = t + 1 >= firstTrained ? scale : 0;
  return {
    modelInput: ex.ids.slice(0, T),
    targetTokens: ex.ids.slice(1),
    weights,
  };
}
