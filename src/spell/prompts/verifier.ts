/**
 * The verifier prompt (one for all tasks): does the responder's extracted answer mean the same
 * as the reference answer? Wording is ours; the sections (TASK / Instruction / Input Data /
 * Output Format) and the `[[YES]]` / `[[NO]]` decision contract follow spell-algorithm.md §4.4.
 */

export const VOTE_YES = '[[YES]]';
export const VOTE_NO = '[[NO]]';

export interface VerifierPromptInput {
  /** The question as the responder saw it (for MC: with its choices). */
  readonly problem: string;
  /** Answer 1: the responder's extracted prediction. */
  readonly prediction: string;
  /** Answer 2: the extracted reference answer. */
  readonly reference: string;
}

/**
 * Build the verifier prompt for one judged answer.
 * @example verifierPrompt({ problem: 'How many ...?', prediction: '12', reference: '12.0' })
 */
export function verifierPrompt(input: VerifierPromptInput): string {
  return [
    '## TASK',
    'You are an expert at telling whether two answers to the same problem agree. You are given a ' +
      'problem, "Answer 1" and "Answer 2". Decide whether the two answers are equivalent. Do NOT ' +
      'try to solve the problem yourself; only compare the answers.',
    '## Instruction',
    [
      '1. Compare the two answers closely.',
      '2. Treat them as equivalent when they give the same value or the same meaning, even if ' +
        'they are written in different forms, units or notations.',
      '3. Numbers count as equal when they differ by at most 0.15% (relative).',
      `4. Your decision must be exactly ${VOTE_YES} (equivalent) or ${VOTE_NO} (not equivalent).`,
    ].join('\n'),
    '## Input Data',
    `Problem: ${input.problem}`,
    `Answer 1: ${input.prediction}`,
    `Answer 2: ${input.reference}`,
    '## Output Format',
    'Explanation: <a short explanation of how the answers compare>\n' +
      `Decision: ${VOTE_YES} or ${VOTE_NO}`,
  ].join('\n\n');
}
