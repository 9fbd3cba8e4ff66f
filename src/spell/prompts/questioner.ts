/**
 * Questioner prompts: one template per task, each in a "first visit" form and a "with history"
 * form that shows earlier solved questions and asks for a harder, different one.
 *
 * The wording is ours; the structure and output contract follow spell-algorithm.md §4.1–4.2:
 * role and goal, numbered design principles, output format (reasoning first, then a final
 * ```json object), the documents between <text> and </text>, and for the history form a
 * "Previous Examples" section ("### Example k" / Question / Answer, oldest first).
 *
 * Prompts are plain strings sent as one user message; the chat template is applied elsewhere.
 * Multiple-choice prompts carry a target letter the caller draws uniformly from A–D
 * (`drawTargetLetter`), so correct answers are balanced across letters (decision 2).
 */

import type { Rng } from '../../core/rng.ts';

/** The four option letters of a multiple-choice question. */
export type McLetter = 'A' | 'B' | 'C' | 'D';

export const MC_LETTERS: readonly McLetter[] = ['A', 'B', 'C', 'D'];

/** A solved question from the history memory, shown to the questioner as an example. */
export interface QuestionerExample {
  readonly question: string;
  readonly answer: string;
}

/** What a questioner prompt needs; MC additionally needs the letter its answer must have. */
export type QuestionerPromptInput =
  | {
      readonly task: 'docmath' | 'qa';
      /** The questioner's documents, already joined (see `joinDocuments`). */
      readonly documents: string;
      /** History entries, oldest first; empty or absent selects the first-visit template. */
      readonly examples?: readonly QuestionerExample[];
    }
  | {
      readonly task: 'mc';
      readonly documents: string;
      readonly examples?: readonly QuestionerExample[];
      readonly targetLetter: McLetter;
    };

/** Draw the MC target letter uniformly from A–D. */
export function drawTargetLetter(rng: Rng): McLetter {
  return rng.choice(MC_LETTERS);
}

/**
 * Join the chosen paragraphs of a cluster, in ascending index order, one per line.
 * @throws RangeError when an index is outside the cluster.
 */
export function joinDocuments(paragraphs: readonly string[], indices: readonly number[]): string {
  const sorted = [...indices].sort((a, b) => a - b);
  return sorted
    .map((i) => {
      if (!Number.isInteger(i) || i < 0 || i >= paragraphs.length) {
        throw new RangeError(
          `document index ${i} is outside the cluster (0..${paragraphs.length - 1})`,
        );
      }
      return paragraphs[i];
    })
    .join('\n');
}

interface TaskText {
  /** Who the model is and what it must produce (first visit). */
  readonly goal: string;
  /** The goal when history examples are shown. */
  readonly goalWithHistory: string;
  readonly principles: readonly string[];
  /** The extra principle of the history form: analyse the examples, then go harder. */
  readonly escalate: string;
  /** What the final JSON object holds, and an example of its shape (valid strict JSON). */
  readonly jsonKeys: string;
  readonly jsonExample: string;
}

const OPENING_EXPERT = 'You are an expert in analysing documents';

function qaText(): TaskText {
  return {
    goal:
      `${OPENING_EXPERT}, helping to build a benchmark that tests large language models. ` +
      'Read the documents between <text> and </text> and write ONE challenging question about them. ' +
      'Answering it must require understanding the documents and reasoning over several hops. ' +
      'Give the correct answer and a step-by-step derivation of it.',
    goalWithHistory:
      `${OPENING_EXPERT}, helping to build a benchmark of multi-document comprehension for large ` +
      'language models. The "Previous Examples" section below shows questions about these documents ' +
      'that have already been asked; they are the easy ones. Write ONE new question that is clearly ' +
      'harder than all of them and asks about something different, so that answering it needs ' +
      'advanced multi-hop reasoning. Give the correct answer and a step-by-step derivation of it.',
    principles: [
      'Write in English only.',
      'The question must stand on its own: never refer to "Article 1", "the second document" or similar.',
      'There must be exactly one factual, unambiguous answer.',
      'Use information from ALL of the given documents; no single document may be enough to answer.',
      'Begin with a word such as what, how, where or when, and join the conditions with connecting phrases.',
      'Keep the answer short: about 20 tokens at most.',
      'In the derivation, name the document each step relies on.',
    ],
    escalate:
      'Raise the difficulty. First work out which simple reasoning patterns the examples use, then ' +
      'build your question on one or more harder kinds of reasoning, for example: a calculation that ' +
      'combines numbers from different sources; a comparison or a superlative across documents; a ' +
      'conditional or causal (if-then) chain spanning documents; or a link between a qualitative ' +
      'statement and a quantitative fact.',
    jsonKeys: 'the keys "question" and "answer" (both strings)',
    jsonExample: '{"question": "your question", "answer": "your short answer"}',
  };
}

function docmathText(): TaskText {
  return {
    goal:
      `${OPENING_EXPERT} and in numerical reasoning, helping to build a benchmark that tests large ` +
      'language models on financial documents. Read the document between <text> and </text> and ' +
      'write ONE challenging question whose answer is a number. Answering it must require ' +
      'understanding the document and several steps of calculation. Give the correct answer and a ' +
      'step-by-step derivation of it.',
    goalWithHistory:
      `${OPENING_EXPERT} and in numerical reasoning, helping to build a benchmark for large language ` +
      'models. The "Previous Examples" section below shows questions about this document that have ' +
      'already been asked; they are the easy ones. Write ONE new numerical question that is clearly ' +
      'harder than all of them and asks about something different. Give the correct answer and a ' +
      'step-by-step derivation of it.',
    principles: [
      'Write in English only.',
      'Require at least two calculation steps, and combine different parts of the document (tables as well as text).',
      'Avoid plain counting, reading a single value off the page, questions that need much outside knowledge, artificial set-ups, and questions with more than one number as the answer.',
      'Do not repeat the key figures inside the question; the solver must find them.',
      'Stay grounded in the document: do not invent scenarios or data.',
      'The answer is one non-zero number; put the unit in the question (for example "in millions of dollars").',
      'In the derivation, say where in the document each figure comes from.',
    ],
    escalate:
      'Raise the difficulty. First work out which simple reasoning patterns the examples use, then ' +
      'use one or more harder kinds of reasoning, for example: the change between two periods; a ' +
      'derived ratio or metric; a total taken after filtering items by a condition stated in the ' +
      'text; or a projection or "what if" built from the numbers in the document.',
    jsonKeys: 'the keys "question" (a string) and "answer" (a single number)',
    jsonExample: '{"question": "your question", "answer": 12.5}',
  };
}

function mcText(letter: McLetter): TaskText {
  return {
    goal:
      `${OPENING_EXPERT}, helping to build a benchmark that tests large language models. Read the ` +
      'documents between <text> and </text> and write ONE challenging multiple-choice question with ' +
      'four options, A to D. Answering it must require understanding the documents and several ' +
      'steps of reasoning. Give the correct option and a step-by-step derivation.',
    goalWithHistory:
      `${OPENING_EXPERT}, helping to build a benchmark of multi-document comprehension for large ` +
      'language models. The "Previous Examples" section below shows questions about these documents ' +
      'that have already been asked; they are the easy ones. Write ONE new multiple-choice question ' +
      '(options A to D) that is clearly harder than all of them and asks about something different. ' +
      'Give the correct option and a step-by-step derivation.',
    principles: [
      'Write in English only, and make the question genuinely hard.',
      'Require three or more reasoning steps over at least three pieces of information, mixing quantitative data with qualitative statements.',
      'The question must be answerable from the documents alone.',
      'Prefer facts that matter: material figures, obligations, compliance facts.',
      'Write three believable wrong options, each the result of a different mistake; one of them should come from misunderstanding a concept.',
      'Do not use plain counting, single look-ups, outside knowledge, artificial set-ups, invented data, ambiguous wording, subjective or ethical judgements, or vague options.',
      `The correct option MUST be ${letter}.`,
      'Derive the correct option step by step and say briefly why each wrong option is wrong.',
    ],
    escalate:
      'Raise the difficulty. First work out which simple reasoning patterns the examples use, then ' +
      'build your question on one or more harder kinds of reasoning, for example: a calculation that ' +
      'combines numbers from different sources; a comparison or a superlative across documents; a ' +
      'conditional or causal (if-then) chain spanning documents; or a link between a qualitative ' +
      'statement and a quantitative fact.',
    jsonKeys:
      'the keys "question" (the question text without the options), "options" (an object with the ' +
      `keys "A", "B", "C" and "D") and "answer" (the letter ${letter})`,
    jsonExample:
      '{"question": "your question", "options": {"A": "first option", "B": "second option", ' +
      `"C": "third option", "D": "fourth option"}, "answer": "${letter}"}`,
  };
}

function taskText(input: QuestionerPromptInput): TaskText {
  switch (input.task) {
    case 'qa':
      return qaText();
    case 'docmath':
      return docmathText();
    case 'mc':
      return mcText(input.targetLetter);
  }
}

/** Render history entries as "### Example k" / Question / Answer blocks, oldest first. */
export function renderExamples(examples: readonly QuestionerExample[]): string {
  return examples
    .map((e, i) => `### Example ${i + 1}\nQuestion: ${e.question}\nAnswer: ${e.answer}`)
    .join('\n\n');
}

/**
 * Build the questioner prompt for one task. With history examples the "harder, different
 * question" form is used and the examples follow the documents.
 * @example questionerPrompt({ task: 'mc', documents, targetLetter: 'C' })
 */
export function questionerPrompt(input: QuestionerPromptInput): string {
  const text = taskText(input);
  const examples = input.examples ?? [];
  const withHistory = examples.length > 0;
  const principles = withHistory ? [...text.principles, text.escalate] : text.principles;
  const parts = [
    withHistory ? text.goalWithHistory : text.goal,
    '## Principles\n' + principles.map((p, i) => `${i + 1}. ${p}`).join('\n'),
    '## Output format\n' +
      'Think it through first: write your reasoning and the derivation. Then END your reply with a ' +
      `fenced JSON block holding ${text.jsonKeys}. The block must be valid JSON, like this:\n` +
      '```json\n' +
      text.jsonExample +
      '\n```',
    `## Documents\n<text>\n${input.documents}\n</text>`,
  ];
  if (withHistory) parts.push(`## Previous Examples\n${renderExamples(examples)}`);
  return parts.join('\n\n');
}
