import { describe, expect, test } from 'vitest';
import { GROUND_TRUTH_PREFIX, ruleScore } from './index.ts';

describe('ruleScore dispatches per task and wraps the reference answer', () => {
  test('the ground truth goes through the extractor as "The correct answer is <answer>"', () => {
    expect(GROUND_TRUTH_PREFIX).toBe('The correct answer is ');
    expect(ruleScore('qa', 'The correct answer is Paris.', 'Paris.')).toEqual({
      score: 1,
      pred: 'Paris',
      gt: 'Paris',
    });
    // A reference answer with its own newline keeps only its first line, as in the reference.
    expect(ruleScore('qa', 'The answer is Paris', 'Paris\nFrance').gt).toBe('Paris');
  });

  test('docmath: sign ignored and scale tolerance', () => {
    expect(ruleScore('docmath', 'So the answer is -5.', '5').score).toBe(1);
    expect(ruleScore('docmath', 'So the answer is 35%.', '0.35').score).toBe(1);
    expect(ruleScore('docmath', 'So the answer is 1.2.', '1200').score).toBe(1);
  });

  test('docmath: a reference answer without a number cannot be extracted', () => {
    expect(ruleScore('docmath', 'So the answer is 3.', 'three')).toEqual({
      score: 0,
      pred: '3',
      gt: null,
    });
  });

  test('qa: strict cover-EM by default, other metrics on request', () => {
    expect(ruleScore('qa', 'The answer is 10 people.', '1').score).toBe(1);
    expect(ruleScore('qa', 'The answer is 10 people.', '1', { qaMetric: 'em' }).score).toBe(0);
    expect(ruleScore('qa', 'The answer is Paris France', 'Paris', { qaMetric: 'f1' }).score).toBe(
      0.67,
    );
  });

  test('mc: letter equality; a reference like "(B)" still parses to B', () => {
    expect(ruleScore('mc', 'The correct answer is (B)', 'B').score).toBe(1);
    expect(ruleScore('mc', 'The correct answer is (B)', '(B)').score).toBe(1);
    expect(ruleScore('mc', 'The correct answer is (b)', 'B').score).toBe(0);
  });

  test('every task: unfinished thinking gives no prediction and score 0', () => {
    for (const task of ['docmath', 'qa', 'mc'] as const) {
      expect(ruleScore(task, '<think>The correct answer is (B) 5', 'B')).toMatchObject({
        score: 0,
        pred: null,
      });
    }
  });
});
