/**
 * Responder prompts (one per task) and the grounding-filter variant, whose document slot holds
 * the literal word "Empty" so a question answerable from general knowledge is caught.
 *
 * Wording is ours; the output contracts follow spell-algorithm.md §4.3 exactly, because the rule
 * checks parse them: docmath ends with "Therefore, the answer is (…)" holding a number; free-form
 * QA and multiple choice end with "The correct answer is (…)".
 */

import type { Task } from '../task.ts';

/** The docmath answer sentence the rule check looks for. */
export const DOCMATH_ANSWER_FORMAT = 'Therefore, the answer is (insert answer here).';
/** The QA / MC answer sentence the rule check looks for. */
export const CHOICE_ANSWER_FORMAT = 'The correct answer is (insert answer here).';

/** What stands in the document slot of the grounding filter's prompt. */
export const GROUNDING_DOCUMENTS = 'Empty';

export interface ResponderPromptInput {
  readonly task: Task;
  /** All paragraphs of the cluster, joined in their original order. */
  readonly documents: string;
  /** The question as the responder sees it (for MC: the rebuilt block with its choices). */
  readonly question: string;
}

/**
 * Build the responder prompt for one question.
 * @example responderPrompt({ task: 'qa', documents, question: 'Which city ...?' })
 */
export function responderPrompt(input: ResponderPromptInput): string {
  const textBlock = `<text>\n${input.documents}\n</text>`;
  switch (input.task) {
    case 'docmath':
      return [
        'You are an expert in analysing documents and in numerical reasoning. Use the document ' +
          'below to answer the question. Reason step by step, and make the last sentence of your ' +
          `reply exactly of the form "${DOCMATH_ANSWER_FORMAT}", where the answer is a single number.`,
        textBlock,
        `Question: ${input.question}`,
        'Reason step by step. Finish with the sentence ' +
          `"${DOCMATH_ANSWER_FORMAT}", with a single number as the answer.`,
      ].join('\n\n');
    case 'qa':
      return [
        'Read the text below carefully and answer the question that follows it.',
        textBlock,
        `Question: ${input.question}`,
        `Give your final answer in the form "${CHOICE_ANSWER_FORMAT}".`,
      ].join('\n\n');
    case 'mc':
      // The question slot already holds "What is the correct answer to this question: …" and
      // the choices, so there is no "Question:" label (as in LongBench-v2).
      return [
        'Read the text below carefully and answer the multiple-choice question that follows it.',
        textBlock,
        input.question,
        `Give your final answer in the form "${CHOICE_ANSWER_FORMAT}", where the answer is one ` +
          'letter: A, B, C or D.',
      ].join('\n\n');
  }
}

/** The grounding filter's prompt: the responder prompt with "Empty" in place of the documents. */
export function groundingPrompt(input: { readonly task: Task; readonly question: string }): string {
  return responderPrompt({ ...input, documents: GROUNDING_DOCUMENTS });
}
