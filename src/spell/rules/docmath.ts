/**
 * DocMath rule check (reference `docmath.py`): numeric answers compared with a 0.15% relative
 * tolerance plus the reference's quirks, reproduced on purpose because the published numbers come
 * from them: the sign is ignored, ×100/×1e3/×1e6/×1e9 scale slips are accepted, values are equal
 * after rounding UP to 3 decimals, "US" is deleted before "USD", and `007` fails to evaluate.
 *
 * Pure and synchronous. Python's `eval` is replaced by the safe evaluator in `arith.ts`.
 */
import { pyRstrip, pyStrip } from '../../text/normalize.ts';
import { PARSE_FAILURE_SENTINEL, parseArithmetic, type ArithValue } from './arith.ts';
import { answerRegion } from './thinking.ts';

/** A normalised DocMath answer: a number or bool, a tuple, or an option string like "(a)". */
export type DocmathValue = ArithValue | { readonly kind: 'option'; readonly value: string };

/** Result of one rule check: score 0/1 and the extracted answer strings (null = not found). */
export interface DocmathScore {
  readonly score: number;
  readonly pred: string | null;
  readonly gt: string | null;
}

const BOXED = '\\boxed{';

/** The text the DocMath extractor reads: after the last `</think>`, or the last 300 characters. */
export function docmathAnswerRegion(response: string): string {
  return answerRegion(response, [BOXED, 'answer is'], 300);
}

// Optional marker characters (each optional, in this fixed order), optional minus, digits/dots/commas.
const NUM = '(=?≈?`?%?\\$?°?£?€?¥?-?[0-9.,]+)';
const ANSWER_PATTERNS: readonly RegExp[] = [
  new RegExp(`the answer is \\(${NUM}\\)`, 'giu'),
  new RegExp(`the answer is ${NUM}`, 'giu'),
  new RegExp(`answer is \\(${NUM}\\)`, 'giu'),
  new RegExp(`answer is ${NUM}`, 'giu'),
];

/** Content of the last `\boxed{…}` with balanced braces; null when its braces never close. */
function lastBoxedContent(s: string): string | null {
  const start = s.lastIndexOf(BOXED) + BOXED.length;
  let depth = 1;
  for (let i = start; i < s.length; i++) {
    if (s[i] === '{') depth++;
    else if (s[i] === '}' && --depth === 0) return s.slice(start, i);
  }
  return null;
}

function cleanNumber(s: string): string {
  return pyRstrip(s.replaceAll(',', ''), '.');
}

/**
 * Extract the DocMath answer string from an answer region (reference `parse_model_answer`):
 * drop `*`; the last balanced `\boxed{…}` if any (null if unbalanced); else the last match of the
 * first matching "the answer is (NUM)" / "the answer is NUM" / "answer is (NUM)" / "answer is NUM"
 * (case-insensitive). Commas removed, trailing dots stripped.
 * @example extractDocmathAnswer('So the answer is $1,234.5.') === '$1234.5'
 */
export function extractDocmathAnswer(text: string): string | null {
  const s = text.replaceAll('*', '');
  if (s.includes(BOXED)) {
    const inner = lastBoxedContent(s);
    return inner === null ? null : cleanNumber(inner);
  }
  for (const pattern of ANSWER_PATTERNS) {
    const matches = [...s.matchAll(pattern)];
    const last = matches[matches.length - 1];
    if (last) return cleanNumber(last[1]);
  }
  return null;
}

// Python's `re.match(...$)`: anchored at the start; `$` also matches before a final newline.
// `\d` is Unicode-aware in Python, hence \p{Nd}. The explicit [0-9] classes stay ASCII.
const END = '(?=\\n?$)';
const NUMBER_PART = '(?:[\\p{Nd},]*\\.*\\p{Nd}+)';
const UNIT_AFTER_WORD = new RegExp(`^([-+]?${NUMBER_PART}) [^0-9 ]+${END}`, 'u');
const UNIT_BEFORE_WORD = new RegExp(`^[^0-9 ]+ ([-+]?${NUMBER_PART})${END}`, 'u');
const UNIT_AFTER_CHARS = new RegExp(`^([-+]?${NUMBER_PART})[^\\p{Nd}]{1,2}${END}`, 'u');
const UNIT_BEFORE_CHARS = new RegExp(`^[^-+\\p{Nd}]{1,2}(${NUMBER_PART})${END}`, 'u');
const POWER_OF_TEN = /10\^(-?\p{Nd}+)/gu;
const GROUPED_NUMBER = new RegExp(
  `^[-+]?(?:\\p{Nd}{1,3}(?:,\\p{Nd}{3})*|\\p{Nd}+)(?:\\.\\p{Nd}+)?${END}`,
  'u',
);
const OPTION = /\([a-d]\)/;

/** The reference `normalize` string steps (everything before `eval`), in order. */
export function normalizeDocmathString(input: string): string {
  let s = pyRstrip(pyStrip(input), '.');
  for (const word of ['£', '€', '¥', 'million', 'billion', 'thousand', 'US', 'USD', 'RMB']) {
    s = s.replaceAll(word, ''); // "US" goes first, so "USD" becomes "D"
  }
  if (s.includes('=')) s = pyStrip(s.split('=').pop() as string);
  if (s.includes('≈')) s = pyStrip(s.split('≈').pop() as string);
  for (const ch of ['`', '%', '$', '°']) s = s.replaceAll(ch, '');
  if (s === 'true' || s === 'yes') s = 'True';
  else if (s === 'false' || s === 'no') s = 'False';
  if (s.includes('True') || s.includes('False')) s = s.includes('True') ? 'True' : 'False';
  if (s.includes('approximately')) s = pyStrip(s.replaceAll('approximately', ''));
  if (s.includes(' or ')) s = s.split(' or ')[0];
  for (const unit of [UNIT_AFTER_WORD, UNIT_BEFORE_WORD, UNIT_AFTER_CHARS, UNIT_BEFORE_CHARS]) {
    const m = unit.exec(s);
    if (m) s = m[1];
  }
  if (s.includes('10^')) s = s.replace(POWER_OF_TEN, 'math.pow(10, $1)');
  s = s.replaceAll(' x ', '*').replaceAll(' × ', '*');
  if (GROUPED_NUMBER.test(s)) s = s.replaceAll(',', '');
  return s;
}

/** Full reference `normalize`: string steps, option strings, then safe evaluation. */
export function normalizeDocmathValue(input: string): DocmathValue {
  const s = normalizeDocmathString(input);
  const option = OPTION.exec(s);
  if (option) return { kind: 'option', value: option[0] };
  if (s.length === 0) return { kind: 'number', value: PARSE_FAILURE_SENTINEL, int: true };
  return parseArithmetic(s) ?? { kind: 'number', value: PARSE_FAILURE_SENTINEL, int: true };
}

/**
 * Normalise a DocMath answer string to a number or boolean ("35%" → 35, "$1,234.5" → 1234.5,
 * "12.5 million" → 12.5, "1/3" → 0.333…, "yes" → true). 999999999 when it cannot be evaluated,
 * and for option strings or tuples, which no numeric check accepts.
 */
export function normalizeDocmath(s: string): number | boolean {
  const v = normalizeDocmathValue(s);
  if (v.kind === 'number' || v.kind === 'bool') return v.value;
  return PARSE_FAILURE_SENTINEL;
}

function withinEps(pred: number, gt: number): boolean {
  const eps = Math.abs(gt) * 0.0015;
  return pred >= gt - eps && pred <= gt + eps;
}

/** Scale factors s with their gate v2 <= v1 / (s / 2), i.e. v2 <= 2·v1/s. */
const SCALES: readonly (readonly [number, number])[] = [
  [100, 50],
  [1000, 500],
  [1e6, 500000],
  [1e9, 500000000],
];

/**
 * The reference numeric comparison. With v1 = max(|p|,|g|), v2 = min(|p|,|g|), true when
 * (a) v2·s is within 0.15% of v1 for a scale s in {100, 1e3, 1e6, 1e9} (and v2 <= 2·v1/s),
 * (b) ceil(v1·1000)/1000 == ceil(v2·1000)/1000, or (c) |p − g| <= 0.15%·|g|.
 * (a) and (b) ignore the sign (5 matches −5). Non-finite values or an overflow give false.
 */
export function compareDocmathNumbers(pred: number, gt: number): boolean {
  if (!Number.isFinite(pred) || !Number.isFinite(gt)) return false;
  const v1 = Math.max(Math.abs(gt), Math.abs(pred));
  const v2 = Math.min(Math.abs(gt), Math.abs(pred));
  for (const [scale, gate] of SCALES) {
    if (v2 <= v1 / gate && withinEps(v2 * scale, v1)) return true;
  }
  // Python's math.ceil raises OverflowError on inf, which the reference turns into "wrong".
  if (!Number.isFinite(v1 * 1000)) return false;
  if (Math.ceil(v1 * 1000) / 1000 === Math.ceil(v2 * 1000) / 1000) return true;
  return withinEps(pred, gt);
}

/**
 * Reference `get_acc` on two extracted answer strings: 1 when they match, else 0. A boolean
 * ground truth compares by Python equality (True == 1); otherwise the prediction must be a
 * number (not a bool, tuple or option). A non-numeric ground truth, which makes the reference
 * abort with an assertion, scores 0 here.
 */
export function docmathAccuracy(pred: string, gt: string): number {
  const p = normalizeDocmathValue(pred);
  const g = normalizeDocmathValue(gt);
  if (g.kind === 'bool') {
    if (p.kind === 'bool') return p.value === g.value ? 1 : 0;
    if (p.kind === 'number') return p.value === (g.value ? 1 : 0) ? 1 : 0;
    return 0;
  }
  if (g.kind !== 'number' || p.kind !== 'number') return 0;
  return compareDocmathNumbers(p.value, g.value) ? 1 : 0;
}

/**
 * Rule-score a DocMath response against a ground-truth response (the reference passes
 * "The correct answer is <gt>"); both go through the same extractor.
 * @example scoreDocmath('the answer is -5.', 'The correct answer is 5') → { score: 1, pred: '-5', gt: '5' }
 */
export function scoreDocmath(response: string, groundTruthResponse: string): DocmathScore {
  const pred = extractDocmathAnswer(docmathAnswerRegion(response));
  const gt = extractDocmathAnswer(groundTruthResponse);
  if (pred === null || gt === null) return { score: 0, pred, gt };
  return { score: docmathAccuracy(pred, gt), pred, gt };
}
