/**
 * The induction drill: a run of 16–48 random ordinary token ids, a blank-line separator, and the
 * same run again, with loss on the repeat. Nothing but looking back predicts the repeat (find the
 * current token in the first run, take the one after it), and the run's length varies, so a head
 * that copies from a fixed distance does not solve it.
 *
 * Measured on the bundled model (1.04M parameters, 16 runs per step, lr 1e-3 / 3e-3): the repeat
 * loss sits on a plateau near 7 nats for about 1000 steps and then falls to below 0.1 within
 * 200–300 (constant learning rate) — the induction transition. With a fixed run length it falls within 150 steps instead, through
 * a fixed-offset head that does not help elsewhere; runs of document words never left the plateau
 * in 300 steps. The drill works on token ids, not text, so it is built here rather than in
 * examples.ts. Pure; randomness from the injected Rng.
 */
import type { Rng } from '../core/rng.ts';
import type { HfTokenizer } from '../text/tokenizer.ts';
import { renderChat } from '../text/chat.ts';
import { endOfTurnId, type EncodedExample } from './encode.ts';

/** The token ids a drill draws from and the separator between the two runs. */
export interface InductionVocab {
  /** Drawn ids lie in [lo, hi): merged ordinary tokens, no raw bytes, no special tokens. */
  readonly lo: number;
  readonly hi: number;
  readonly separator: readonly number[];
  /** The chat-rendered user turn around the run and the assistant header after it. */
  readonly chatBefore: readonly number[];
  readonly chatAfter: readonly number[];
  readonly endOfTurn: number;
}

/** Share of drills posed as a chat turn unless told otherwise. */
export const DEFAULT_DRILL_CHAT_SHARE = 0.5;

/** The drill's instruction when it is posed as a chat turn. */
const CHAT_INSTRUCTION = 'Repeat the tokens below exactly, in the same order.\n\n';
/** A placeholder that tokenizes to itself, so the template can be split around it. */
const HOLE = '\u0001';

/**
 * The drill vocabulary of a byte-level BPE tokenizer: the ids after the 256 byte tokens and before
 * the first chat token.
 * @throws Error when the tokenizer has no chat tokens or too few merged tokens.
 */
export function inductionVocab(tok: HfTokenizer, enableThinking = false): InductionVocab {
  const hi = Math.min(tok.requireTokenId('<|im_start|>'), tok.requireTokenId('<|im_end|>'));
  const lo = 256;
  if (hi - lo < 64) {
    throw new Error(`induction drill: only ${hi - lo} ordinary merged token ids below ${hi}`);
  }
  return {
    lo,
    hi,
    separator: tok.encode('\n\n', { addSpecialTokens: false }),
    ...drillChatFrame(tok, CHAT_INSTRUCTION, enableThinking),
    endOfTurn: endOfTurnId(tok),
  };
}

/**
 * The chat-rendered user turn around a drill's token ids (`instruction` first) and the assistant
 * header after them.
 * @throws Error when the chat template does not keep a placeholder where it was put.
 */
export function drillChatFrame(
  tok: HfTokenizer,
  instruction: string,
  enableThinking = false,
): { readonly chatBefore: readonly number[]; readonly chatAfter: readonly number[] } {
  const rendered = renderChat(tok, [{ role: 'user', content: instruction + HOLE }], {
    addGenerationPrompt: true,
    enableThinking,
  }).ids;
  const hole = tok.encode(HOLE, { addSpecialTokens: false });
  const at = hole.length === 1 ? rendered.indexOf(hole[0]) : -1;
  if (at < 0) {
    throw new Error('drill: the chat template does not keep the run where it was put');
  }
  return { chatBefore: rendered.slice(0, at), chatAfter: rendered.slice(at + 1) };
}

/**
 * One drill: bare (separator, run, separator, run) or, with probability `chatShare`, as a chat
 * turn (user: instruction + run; assistant: the run, end of turn). The prompt is everything
 * before the second run. Both forms are needed: measured, a circuit learned on the bare form alone lowered the
 * bare repeat loss to 0.2 nats but left the same runs posed as a chat turn at 8.8.
 */
export function inductionExample(
  rng: Rng,
  vocab: InductionVocab,
  chatShare = DEFAULT_DRILL_CHAT_SHARE,
): EncodedExample {
  const run = randomIds(rng, vocab, 16 + rng.int(33));
  return poseDrill('induction', run, run, rng, vocab, chatShare);
}

/** `length` random drill ids. */
export function randomIds(rng: Rng, vocab: InductionVocab, length: number): number[] {
  return Array.from({ length }, () => vocab.lo + rng.int(vocab.hi - vocab.lo));
}

/**
 * A token drill as a training example: bare (separator, `body`, `bareEnd`, then `target`) or,
 * with probability `chatShare`, as a chat turn (user: instruction + `body`; assistant: `target`,
 * end of turn). Only the target carries loss.
 */
export function poseDrill(
  role: 'induction' | 'pointer',
  body: readonly number[],
  target: readonly number[],
  rng: Rng,
  vocab: InductionVocab,
  chatShare: number,
  bareEnd: readonly number[] = vocab.separator,
): EncodedExample {
  // Share 0: no draw at all, so bare-only drill streams stay as they were.
  if (chatShare <= 0 || rng.next() >= chatShare) {
    const prompt = [...vocab.separator, ...body, ...bareEnd];
    return { role, ids: [...prompt, ...target], promptTokens: prompt.length };
  }
  const prompt = [...vocab.chatBefore, ...body, ...vocab.chatAfter];
  return { role, ids: [...prompt, ...target, vocab.endOfTurn], promptTokens: prompt.length };
}
