/**
 * Prompt texts of the evaluation: the three responder templates (numeric document QA, free-form
 * document QA, multiple choice), the multiple-choice question block, and the judge prompt.
 *
 * The wording is spell's own; the structure follows the reference (spell-eval.md §3) because the
 * scoring depends on it: instruction, blank line, `<text>`, document, `</text>`, blank line,
 * question block, blank line, answer-format line, trailing newline. The judge extracts the
 * question from the part after the last `</text>\n\n` up to the next blank line, and the answer
 * parsers look for "the answer is" / "The correct answer is".
 *
 * Placeholders are filled by sequential plain replacement, document first, as the reference does
 * (so a literal `{question}` inside a document would be replaced too, bug B20 — kept on purpose
 * in both modes; it never occurs in the benchmarks).
 */
import type { Task } from '../spell/task.ts';

const DOCMATH_TEMPLATE =
  'You are given a document, which may contain tables, and a question about it. Work out the ' +
  'answer with careful step-by-step numerical reasoning. Close your response with one final ' +
  'sentence of the form "Therefore, the answer is (insert answer here)", giving the answer as a ' +
  'single number.\n\n<text>\n{content}\n</text>\n\nQuestion: {question}\n\n' +
  'Reason step by step, then finish with "Therefore, the answer is (insert answer here)".\n';

// The reference's free-form QA opening line ends in one space; the MC one does not.
const QA_TEMPLATE =
  'Read the text below and answer the question that follows it. \n\n<text>\n{content}\n</text>\n\n' +
  'Question: {question}\n\n' +
  'Give your final answer in the form "The correct answer is (insert answer here)."\n';

const MC_TEMPLATE =
  'Read the text below and answer the question that follows it.\n\n<text>\n{content}\n</text>\n\n' +
  '{question}\n\n' +
  'Give your final answer in the form "The correct answer is (insert answer here)."\n';

const TEMPLATES: Readonly<Record<Task, string>> = {
  docmath: DOCMATH_TEMPLATE,
  qa: QA_TEMPLATE,
  mc: MC_TEMPLATE,
};

/**
 * The user message for one question: the document is stripped and substituted first, then the
 * question, by plain string replacement.
 * @example evalPrompt('qa', ' doc ', 'Who?') // contains "<text>\ndoc\n</text>\n\nQuestion: Who?\n\n"
 */
export function evalPrompt(kind: Task, context: string, question: string): string {
  return TEMPLATES[kind].replace('{content}', context.trim()).replace('{question}', question);
}

/**
 * The LongBench-v2 question block: the question, a 4-space indented "Choices:" line, one indented
 * line per option, then 4 trailing spaces (the block ends in "\n    ", as in the reference).
 */
export function mcQuestionBlock(
  question: string,
  choices: Readonly<Record<'A' | 'B' | 'C' | 'D', string>>,
): string {
  const lines = (['A', 'B', 'C', 'D'] as const).map((l) => `    (${l}) ${choices[l]}\n`).join('');
  return `What is the correct answer to this question: ${question}\n    Choices:\n${lines}    `;
}

const JUDGE_TEMPLATE = `# Task
Decide whether the ground-truth answer is contained in the answer a language model predicted.

# Instructions
- Compare the Predicted Answer with the Ground Truth Answer.
- Judge the substance, not the wording: paraphrases, equivalent numbers and extra detail are fine.
- Decide whether the meaning and every essential fact of the ground truth appear in the prediction.
- Your decision must be exactly [[YES]] or [[NO]].

# Input
- Question: {problem}
- Predicted Answer: {prediction}
- Ground Truth Answer: {truth}

# Output format
Explanation: <one or two sentences>
Decision: [[YES]] or [[NO]]
`;

/** The judge's single user message (filled in one pass, so no field is substituted twice). */
export function judgePrompt(problem: string, prediction: string, truth: string): string {
  const fields: Readonly<Record<string, string>> = { problem, prediction, truth };
  return JUDGE_TEMPLATE.replace(/\{(problem|prediction|truth)\}/g, (_m, k: string) => fields[k]);
}

/**
 * The question text the judge sees (reference behaviour, B24): the part of the final prompt after
 * the last `</text>\n\n`, up to the first blank line — i.e. "Question: …" including the prefix.
 * Falls back to "Question: <question>" if the prompt lost its `</text>` marker.
 */
export function judgeQuestion(finalPrompt: string, question: string): string {
  const marker = '</text>\n\n';
  const at = finalPrompt.lastIndexOf(marker);
  if (at < 0) return `Question: ${question}`;
  return finalPrompt.slice(at + marker.length).split('\n\n')[0];
}
