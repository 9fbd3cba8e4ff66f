/**
 * Middle truncation of the templated prompt (spell-eval.md §4): when the token ids of the whole
 * chat-templated prompt exceed the budget, keep the first ⌊max/2⌋ and the last ⌈max/2⌉ ids (the
 * reference's `ids[:max//2] + ids[-max//2:]`), so the chat header, instruction and start of the
 * document survive at the head, and the end of the document, the question, the answer-format line
 * and the assistant header survive at the tail. Pure and synchronous.
 */
import { ConfigurationError } from '../core/errors.ts';

/** Result of {@link middleTruncate}: the kept ids and whether anything was cut. */
export interface Truncation {
  readonly ids: number[];
  readonly truncated: boolean;
  /** Number of ids before truncation. */
  readonly originalLength: number;
}

/**
 * Keep head and tail of `ids` within `maxLen` tokens.
 * @throws ConfigurationError when maxLen is not a positive integer
 * @example middleTruncate([1,2,3,4,5], 3).ids // [1, 4, 5]
 */
export function middleTruncate(ids: readonly number[], maxLen: number): Truncation {
  if (!Number.isInteger(maxLen) || maxLen < 1) {
    throw new ConfigurationError(`max input length must be a positive integer, got ${maxLen}`);
  }
  if (ids.length <= maxLen) return { ids: [...ids], truncated: false, originalLength: ids.length };
  const head = Math.floor(maxLen / 2);
  const tail = maxLen - head; // Python's ids[-max//2:] keeps ceil(max/2) ids
  return {
    ids: [...ids.slice(0, head), ...ids.slice(ids.length - tail)],
    truncated: true,
    originalLength: ids.length,
  };
}
