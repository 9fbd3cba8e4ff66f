/**
 * Rule checks for the three SPELL tasks, reproducing the reference scorers exactly (quirks
 * included). `ruleScore` is the dispatch the trainer and `spell score` use; the building blocks are
 * exported for the questioner parser (answer cleaning) and the evaluation harness (as-coded vs
 * as-described scoring). Pure and synchronous; no I/O.
 */
import type { Task } from '../task.ts';
import { scoreDocmath } from './docmath.ts';
import { scoreMc } from './mc.ts';
import { scoreQa, type QaMetric } from './qa.ts';

export { extractSolution, answerRegion, UNFINISHED_THINKING } from './thinking.ts';
export {
  PARSE_FAILURE_SENTINEL,
  evaluateArithmetic,
  parseArithmetic,
  type ArithValue,
} from './arith.ts';
export {
  compareDocmathNumbers,
  docmathAccuracy,
  docmathAnswerRegion,
  extractDocmathAnswer,
  normalizeDocmath,
  normalizeDocmathString,
  normalizeDocmathValue,
  scoreDocmath,
  type DocmathScore,
  type DocmathValue,
} from './docmath.ts';
export {
  QA_METRICS,
  parseQaAnswer,
  parseQaMetric,
  qaAnswerRegion,
  qaMetric,
  scoreQa,
  type QaMetric,
  type QaScore,
} from './qa.ts';
export { mcAnswerRegion, parseMcAnswer, scoreMc, type McScore } from './mc.ts';
export {
  coverEmLoose,
  coverEmStrict,
  exactMatch,
  halfEm,
  normalizeAnswer,
  tokenF1,
} from '../../text/normalize.ts';

/** The prefix the reference puts before every ground truth before parsing it like a response. */
export const GROUND_TRUTH_PREFIX = 'The correct answer is ';

/** Outcome of a rule check: score (0/1, or a fraction for QA f1/half-em) and extracted strings. */
export interface RuleScore {
  readonly score: number;
  readonly pred: string | null;
  readonly gt: string | null;
}

/** Options of {@link ruleScore}. */
export interface RuleScoreOptions {
  /** QA metric; default `cem-strict` (what the SPELL training scripts set). */
  readonly qaMetric?: QaMetric;
}

/**
 * Rule-score one responder answer. As the reference does, the ground truth is wrapped as
 * "The correct answer is <referenceAnswer>" and parsed with the same extractor as the response.
 * @example ruleScore('qa', 'The answer is 10 people.', '1').score === 1 // strict CEM quirk
 */
export function ruleScore(
  task: Task,
  response: string,
  referenceAnswer: string,
  opts: RuleScoreOptions = {},
): RuleScore {
  const gtResponse = GROUND_TRUTH_PREFIX + referenceAnswer;
  switch (task) {
    case 'docmath':
      return scoreDocmath(response, gtResponse);
    case 'qa': {
      const { score, pred, gt } = scoreQa(response, gtResponse, opts.qaMetric ?? 'cem-strict');
      return { score, pred, gt };
    }
    case 'mc':
      return scoreMc(response, gtResponse);
  }
}
