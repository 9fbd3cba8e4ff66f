/**
 * Rule scoring of one evaluation sample, in both scoring modes at once, so one results file can be
 * summarised either way (spell-eval.md §6–7, §9, §15):
 *
 * - `as-coded` reproduces the released code: for the free-form QA tasks the rule score is always 0
 *   (B1: it reads a metric key that does not exist, so QA = judge accuracy), EM/F1 are computed on
 *   `str(pred)` (the string "None" when nothing was parsed, B14).
 * - `as-described` follows the paper: QA rule score = strict cover-EM of the parsed answer.
 *
 * DocMath (numeric check with its quirks, B13) and multiple choice (letter match, B15) are the
 * same in both modes. The ground truth is used as given (`str(gt)`), not wrapped like the training
 * verifier does. Pure and synchronous.
 */
import {
  coverEmLoose,
  coverEmStrict,
  docmathAccuracy,
  docmathAnswerRegion,
  exactMatch,
  extractDocmathAnswer,
  mcAnswerRegion,
  parseMcAnswer,
  parseQaAnswer,
  qaAnswerRegion,
  tokenF1,
} from '../spell/rules/index.ts';
import type { Task } from '../spell/task.ts';
import { pyRound } from '../text/normalize.ts';

/** The two scoring modes. */
export type ScoringMode = 'as-coded' | 'as-described';

export const SCORING_MODES: readonly ScoringMode[] = ['as-coded', 'as-described'];

/** Every rule-side number of one sample. */
export interface SampleRuleScore {
  /** The text the answer parser read (after `</think>`, or the tail; "Empty" for unfinished thinking). */
  readonly region: string;
  /** The parsed answer, null when none was found. */
  readonly pred: string | null;
  /** Rule score per mode. */
  readonly rule: Readonly<Record<ScoringMode, number>>;
  /** QA side metrics on str(pred) vs gt, rounded to 2 decimals as the reference does; else absent. */
  readonly qa?: {
    readonly em: number;
    readonly f1: number;
    readonly cemStrict: number;
    readonly cemLoose: number;
  };
}

/**
 * Rule-score one response.
 * @example scoreSample('qa', 'The correct answer is Paris, France.', 'Paris').rule['as-described'] === 1
 */
export function scoreSample(kind: Task, response: string, answer: string): SampleRuleScore {
  switch (kind) {
    case 'docmath': {
      const region = docmathAnswerRegion(response);
      const pred = extractDocmathAnswer(region);
      const s = pred === null ? 0 : docmathAccuracy(pred, answer);
      return { region, pred, rule: { 'as-coded': s, 'as-described': s } };
    }
    case 'qa': {
      const region = qaAnswerRegion(response);
      const pred = parseQaAnswer(region);
      const p = pred ?? 'None'; // the reference scores str(None)
      const qa = {
        em: pyRound(exactMatch(p, answer), 2),
        f1: pyRound(tokenF1(p, answer), 2),
        cemStrict: pyRound(coverEmStrict(p, answer), 2),
        cemLoose: pyRound(coverEmLoose(p, answer), 2),
      };
      const described = pred === null ? 0 : qa.cemStrict;
      return { region, pred, rule: { 'as-coded': 0, 'as-described': described }, qa };
    }
    case 'mc': {
      const region = mcAnswerRegion(response);
      const pred = parseMcAnswer(region);
      const s = pred !== null && pred === answer ? 1 : 0;
      return { region, pred, rule: { 'as-coded': s, 'as-described': s } };
    }
  }
}

/**
 * Whether the LLM judge is asked about a sample (reference: every non-multiple-choice sample whose
 * rule score is not 1). Decided on the as-coded rule score, which is the superset: it judges every
 * QA sample, so one run serves both modes.
 */
export function needsJudge(kind: Task, rule: SampleRuleScore): boolean {
  return kind !== 'mc' && (rule.rule['as-coded'] < 1 || rule.rule['as-described'] < 1);
}

/** Per-sample final score = max(rule, judge); the judge counts 0 when absent or failed. */
export function finalScore(ruleScore: number, judgeScore: number | null): number {
  return Math.max(ruleScore, judgeScore ?? 0);
}
