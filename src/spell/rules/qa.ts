/**
 * Free-form QA rule check (reference `docqa.py`): extract the answer span after a case-sensitive
 * "answer is" marker, then compare SQuAD-normalised strings. Training uses strict cover-EM: the
 * normalised ground truth must be a character substring of the normalised extracted span (so
 * ground truth "1" is covered by "10 people"). Pure and synchronous.
 */
import {
  coverEmLoose,
  coverEmStrict,
  exactMatch,
  halfEm,
  PY_WHITESPACE,
  pyRound,
  pyStrip,
  tokenF1,
} from '../../text/normalize.ts';
import { answerRegion } from './thinking.ts';

/** The QA metrics: cover-EM strict (training default), cover-EM loose, EM, token F1, half-EM. */
export type QaMetric = 'cem-strict' | 'cem-loose' | 'em' | 'f1' | 'half-em';

export const QA_METRICS: readonly QaMetric[] = ['cem-strict', 'cem-loose', 'em', 'f1', 'half-em'];

/** Parse a metric name; also accepts the reference's `sub_em_strict`-style names. */
export function parseQaMetric(name: string): QaMetric | undefined {
  const n = name.trim();
  if ((QA_METRICS as readonly string[]).includes(n)) return n as QaMetric;
  const reference: Record<string, QaMetric> = {
    sub_em_strict: 'cem-strict',
    sub_em_loose: 'cem-loose',
    em: 'em',
    f1: 'f1',
    half_em: 'half-em',
  };
  return reference[n];
}

/** One QA rule check: `score` under the chosen metric, `f1` (the reference's logged weight). */
export interface QaScore {
  readonly score: number;
  readonly pred: string | null;
  readonly gt: string | null;
  readonly f1: number;
}

/** The text the QA extractor reads: after the last `</think>`, or the last 1000 characters. */
export function qaAnswerRegion(response: string): string {
  return answerRegion(response, ['answer is'], 1000);
}

// Checked in this order; the first one present wins, even when a later one appears further on.
const MARKERS = ['the answer is', 'correct answer is', 'answer is'] as const;
const REMOVED = ['*', '<｜Assistant｜>', '<｜end▁of▁sentence｜>'];
const WS_AND_DOTS = `${PY_WHITESPACE}.`;

/**
 * Extract the QA answer span (reference `parse_model_answer`): after the LAST occurrence of the
 * first case-sensitive marker present ("the answer is" > "correct answer is" > "answer is"),
 * stripped of whitespace and dots; null if it contains "insert answer here" (the prompt's
 * placeholder) or no marker is present; otherwise its first line, stripped again.
 * @example parseQaAnswer('The correct answer is **Jane Ballou**.\nBecause…') === 'Jane Ballou'
 */
export function parseQaAnswer(text: string): string | null {
  let s = text;
  for (const r of REMOVED) s = s.replaceAll(r, '');
  for (const marker of MARKERS) {
    const at = s.lastIndexOf(marker);
    if (at < 0) continue;
    const span = pyStrip(s.slice(at + marker.length), WS_AND_DOTS);
    if (span.includes('insert answer here')) return null;
    return pyStrip(span.split('\n')[0], WS_AND_DOTS);
  }
  return null;
}

/** The named metric on a prediction and ground truth (not rounded). */
export function qaMetric(metric: QaMetric, prediction: string, groundTruth: string): number {
  switch (metric) {
    case 'cem-strict':
      return coverEmStrict(prediction, groundTruth);
    case 'cem-loose':
      return coverEmLoose(prediction, groundTruth);
    case 'em':
      return exactMatch(prediction, groundTruth);
    case 'f1':
      return tokenF1(prediction, groundTruth);
    case 'half-em':
      return halfEm(prediction, groundTruth);
  }
}

/**
 * Rule-score a QA response against a ground-truth response ("The correct answer is <gt>"); both
 * go through {@link parseQaAnswer}. Either side null → 0. Values are rounded to 2 decimals as the
 * reference does (so CEM stays exactly 0 or 1).
 */
export function scoreQa(
  response: string,
  groundTruthResponse: string,
  metric: QaMetric = 'cem-strict',
): QaScore {
  const pred = parseQaAnswer(qaAnswerRegion(response));
  const gt = parseQaAnswer(groundTruthResponse);
  if (pred === null || gt === null) return { score: 0, pred, gt, f1: 0 };
  return {
    score: pyRound(qaMetric(metric, pred, gt), 2),
    pred,
    gt,
    f1: pyRound(tokenF1(pred, gt), 2),
  };
}
