/**
 * Parsing a questioner's reply into a question and reference answer (spell-algorithm.md §3).
 *
 * Two stages: `extractQuestionerRecord` finds the JSON object (§3.1), and `parseQuestioner`
 * validates it per task (§3.2). The outcome is one of four kinds, and the kind decides what
 * happens to the sample:
 * - `format_error`: penalised (questioner label bad_format, reward −1);
 * - `invalid_answer`: dropped without penalty (unusable number, over-long free-form answer);
 * - `unfinished_think`: dropped without penalty (`<think>` opened, never closed);
 * - `ok`: the question goes on to the grounding filter and the responder.
 *
 * Pure and synchronous; token counting is injected so this file knows no tokenizer.
 */

import {
  PARSE_FAILURE_SENTINEL,
  extractDocmathAnswer,
  extractSolution,
  normalizeDocmath,
  parseMcAnswer,
  parseQaAnswer,
} from './rules/index.ts';
import type { McLetter } from './prompts/questioner.ts';
import { MC_LETTERS } from './prompts/questioner.ts';
import type { Task } from './task.ts';

export type QuestionerParse =
  | { readonly kind: 'format_error'; readonly reason: string }
  | { readonly kind: 'invalid_answer'; readonly reason: string }
  | { readonly kind: 'unfinished_think' }
  | {
      readonly kind: 'ok';
      /** The question text exactly as the questioner wrote it. */
      readonly question: string;
      /** The reference answer: a number string (docmath), short text (qa) or a letter (mc). */
      readonly referenceAnswer: string;
      /** What the responder, the verifier and the history memory see (MC: with its choices). */
      readonly responderQuestion: string;
      /**
       * MC only: the letter the questioner marked, when it was not the one the prompt required
       * and `wrongLetter: 'swap'` moved the right option there.
       */
      readonly swappedFrom?: McLetter;
    };

export interface QuestionerParseOptions {
  /** Token count of a text under the policy tokenizer, without special tokens. */
  readonly countTokens: (text: string) => number;
  /** Free-form QA answers with more tokens than this are `invalid_answer` (reference: 40). */
  readonly maxAnswerTokens: number;
  /**
   * The letter the MC prompt demanded. When given, an MC answer with another letter is a
   * format error: the questioner ignored an explicit instruction of its prompt, exactly like a
   * missing key, so it is penalised rather than silently dropped. Omit to skip the check.
   */
  readonly targetLetter?: McLetter;
  /**
   * What an MC answer with another letter than `targetLetter` becomes. `format_error` (default):
   * penalised, as above. `swap`: the right option trades places with the option under the
   * required letter, so the reference is the required letter and right answers stay balanced
   * across letters without the questioner having to obey the letter. A small policy misses it
   * most of the time (measured: 1,122 of 1,368 MC questions in a 30-minute local run), which
   * leaves self-play almost no MC questions to learn from.
   */
  readonly wrongLetter?: 'format_error' | 'swap';
  /**
   * The documents the questioner was shown. When given, a free-form QA reference that does not
   * occur in them (ignoring case and runs of whitespace) is a format error: the prompt asks for
   * an answer taken from the documents, and a small policy otherwise learns to ask questions
   * whose "answer" is the responder's favourite guess (measured: 144 of 230 qa questions in the
   * last third of a local run had that one reference; 9 in 10 references were not in the
   * documents shown).
   * Omit to skip the check (the reference code has none).
   */
  readonly documents?: string;
}

/** A JSON object as parsed by `JSON.parse`. */
export type JsonRecord = { readonly [key: string]: unknown };

function isRecord(v: unknown): v is JsonRecord {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function tryParseObject(text: string): JsonRecord | undefined {
  try {
    const v: unknown = JSON.parse(text);
    return isRecord(v) ? v : undefined;
  } catch {
    return undefined;
  }
}

/** True when a `<think>` block was opened and never closed (the reply was cut off mid-thought). */
export function isUnfinishedThink(text: string): boolean {
  return text.includes('<think>') && !text.includes('</think>');
}

/** Remove control characters below code 32 except tab, newline and carriage return. */
export function stripControlChars(text: string): string {
  // eslint-disable-next-line no-control-regex -- removing control characters is the point
  return text.replace(/[\u0000-\u0008\u000b\u000c\u000e-\u001f]/g, '');
}

/**
 * §3.1: take the text after the last `</think>`, drop control characters, then return the last
 * ```json fenced block that parses as a strict JSON object; failing that the whole text if it is
 * one; failing that `{}`. Strict: a trailing comma makes a block unparseable.
 */
export function extractQuestionerRecord(text: string): JsonRecord {
  const body = stripControlChars(extractSolution(text));
  const blocks = [...body.matchAll(/```json([\s\S]*?)```/g)].map((m) => m[1]);
  for (let i = blocks.length - 1; i >= 0; i--) {
    const record = tryParseObject(blocks[i]);
    if (record !== undefined) return record;
  }
  return tryParseObject(body) ?? {};
}

function requireString(record: JsonRecord, key: string): string | { reason: string } {
  const v = record[key];
  if (typeof v !== 'string') {
    return { reason: `"${key}" must be a string, got ${v === undefined ? 'nothing' : typeof v}` };
  }
  if (v.trim() === '') return { reason: `"${key}" is empty` };
  return v;
}

/** Whether `needle` occurs in `hay`, ignoring case and runs of whitespace. */
function occursIn(needle: string, hay: string): boolean {
  const norm = (t: string): string => t.toLowerCase().replace(/\s+/g, ' ').trim();
  return norm(hay).includes(norm(needle));
}

function formatError(reason: string): QuestionerParse {
  return { kind: 'format_error', reason };
}

function parseDocmath(record: JsonRecord, question: string): QuestionerParse {
  const raw = record.answer;
  // JSON booleans are rejected: the reference accepts them only through Python's bool-is-int.
  if (typeof raw !== 'string' && typeof raw !== 'number') {
    return formatError(`"answer" must be a string or a number, got ${typeof raw}`);
  }
  const text = String(raw);
  // "… the answer is 12.5" or a boxed value inside the answer field: keep only the number.
  const candidate = extractDocmathAnswer(text) ?? text;
  const value = normalizeDocmath(candidate);
  if (typeof value !== 'number') {
    return { kind: 'invalid_answer', reason: `docmath answer "${text}" is not a number` };
  }
  if (!Number.isFinite(value) || Math.trunc(value) === PARSE_FAILURE_SENTINEL) {
    return { kind: 'invalid_answer', reason: `docmath answer "${text}" does not evaluate` };
  }
  if (value === 0) {
    return { kind: 'invalid_answer', reason: `docmath answer "${text}" is zero` };
  }
  return { kind: 'ok', question, referenceAnswer: String(value), responderQuestion: question };
}

function parseQa(
  record: JsonRecord,
  question: string,
  opts: QuestionerParseOptions,
): QuestionerParse {
  const answer = requireString(record, 'answer');
  if (typeof answer !== 'string') return formatError(answer.reason);
  let reference = answer;
  // Every marker the QA extractor knows ends in "answer is" (case-sensitive, as in the reference).
  if (answer.includes('answer is')) {
    const extracted = parseQaAnswer(answer);
    if (extracted === null || extracted.trim() === '') {
      return { kind: 'invalid_answer', reason: `no answer after "answer is" in "${answer}"` };
    }
    reference = extracted;
  }
  if (opts.documents !== undefined && !occursIn(reference, opts.documents)) {
    return formatError(`"answer" "${reference}" does not occur in the documents`);
  }
  const tokens = opts.countTokens(reference);
  if (tokens > opts.maxAnswerTokens) {
    return {
      kind: 'invalid_answer',
      reason: `answer has ${tokens} tokens, more than the limit ${opts.maxAnswerTokens}`,
    };
  }
  return { kind: 'ok', question, referenceAnswer: reference, responderQuestion: question };
}

/** The LongBench-v2 layout the responder sees for a multiple-choice question. */
export function formatMcQuestion(
  question: string,
  options: Readonly<Record<McLetter, string>>,
): string {
  const choices = MC_LETTERS.map((l) => `(${l}) ${options[l]}`).join('\n');
  return `What is the correct answer to this question: ${question}\nChoices:\n${choices}`;
}

function parseMc(
  record: JsonRecord,
  question: string,
  opts: QuestionerParseOptions,
): QuestionerParse {
  const answer = record.answer;
  if (typeof answer !== 'string') return formatError(`"answer" must be a string`);
  const options = record.options;
  if (!isRecord(options)) return formatError(`"options" must be an object with keys A, B, C, D`);
  const texts: string[] = [];
  for (const l of MC_LETTERS) {
    const v = options[l];
    if (typeof v === 'string') texts.push(v);
    else if (typeof v === 'number' && Number.isFinite(v)) texts.push(String(v));
    else return formatError(`"options" must have a string for key "${l}"`);
  }
  const marked = parseMcAnswer(answer);
  const letter = marked ?? answer;
  if (!isMcLetter(letter)) {
    return formatError(`"answer" must be exactly one of A, B, C, D, got "${answer}"`);
  }
  const target = opts.targetLetter;
  const missed = target !== undefined && letter !== target;
  // Decision 2: the prompt fixed the letter; answering with another one is a format error,
  // unless the caller asked for the right option to be moved under the required letter.
  if (missed && opts.wrongLetter !== 'swap') {
    return formatError(`"answer" is ${letter} but the prompt required ${target}`);
  }
  if (missed) {
    const from = MC_LETTERS.indexOf(letter);
    const to = MC_LETTERS.indexOf(target);
    [texts[from], texts[to]] = [texts[to], texts[from]];
  }
  const [A, B, C, D] = texts;
  return {
    kind: 'ok',
    question,
    referenceAnswer: missed ? target : letter,
    responderQuestion: formatMcQuestion(question, { A, B, C, D }),
    ...(missed ? { swappedFrom: letter } : {}),
  };
}

function isMcLetter(s: string): s is McLetter {
  return (MC_LETTERS as readonly string[]).includes(s);
}

/**
 * Parse and validate one questioner reply for a task (§3.2).
 * @example parseQuestioner('qa', reply, { countTokens, maxAnswerTokens: 40 })
 */
export function parseQuestioner(
  task: Task,
  text: string,
  opts: QuestionerParseOptions,
): QuestionerParse {
  if (isUnfinishedThink(text)) return { kind: 'unfinished_think' };
  const record = extractQuestionerRecord(text);
  const question = requireString(record, 'question');
  if (typeof question !== 'string') return formatError(question.reason);
  switch (task) {
    case 'docmath':
      return parseDocmath(record, question);
    case 'qa':
      return parseQa(record, question, opts);
    case 'mc':
      return parseMc(record, question, opts);
  }
}
