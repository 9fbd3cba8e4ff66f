/**
 * Multiple-choice rule check (reference `long.py`, LongBench-v2 style): extract an option letter
 * A–D and compare it with the ground-truth letter. The letter patterns are case-insensitive, but a
 * lowercase capture ("the correct answer is (c)") yields no answer at all, as in the reference.
 * Pure and synchronous.
 */
import { pyStrip } from '../../text/normalize.ts';
import { answerRegion } from './thinking.ts';

/** One MC rule check: 1 when the extracted letters are equal. */
export interface McScore {
  readonly score: number;
  readonly pred: string | null;
  readonly gt: string | null;
}

/** The text the MC extractor reads: after the last `</think>`, or the last 300 characters. */
export function mcAnswerRegion(response: string): string {
  return answerRegion(response, ['answer is'], 300);
}

// Tried in order; the first pattern with any match wins and its LAST match is used.
const LETTER_PATTERNS: readonly RegExp[] = [
  /\\boxed\{([A-D])\}/giu,
  /correct answer is \(([A-D])\)/giu,
  /correct answer is ([A-D])/giu,
  /answer is \(([A-D])\)/giu,
  /answer is ([A-D])/giu,
];
const UPPER_LETTERS = new Set(['A', 'B', 'C', 'D']);

/**
 * Extract the option letter (reference `parse_model_answer`): drop `*`, strip, then the cascade
 * boxed letter > "correct answer is (X)" > "correct answer is X" > "answer is (X)" > "answer is X".
 * A lowercase capture returns null (no fallback), so "The correct answer is a bit…" → null and
 * "The correct answer is Answer D" → "A".
 */
export function parseMcAnswer(text: string): string | null {
  const s = pyStrip(text.replaceAll('*', ''));
  for (const pattern of LETTER_PATTERNS) {
    const matches = [...s.matchAll(pattern)];
    const last = matches[matches.length - 1];
    if (last) {
      const letter = last[1];
      return UPPER_LETTERS.has(letter) ? letter : null;
    }
  }
  return null;
}

/** Rule-score an MC response against a ground-truth response ("The correct answer is <X>"). */
export function scoreMc(response: string, groundTruthResponse: string): McScore {
  const pred = parseMcAnswer(mcAnswerRegion(response));
  const gt = parseMcAnswer(groundTruthResponse);
  return { score: pred !== null && pred === gt ? 1 : 0, pred, gt };
}
