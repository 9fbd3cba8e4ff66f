import { describe, expect, test } from 'vitest';
import { parseQaAnswer, parseQaMetric, scoreQa } from './qa.ts';

const gtOf = (answer: string): string => `The correct answer is ${answer}`;

describe('parseQaAnswer', () => {
  test('markers are case-sensitive: "The answer is" only matches via "answer is"', () => {
    expect(parseQaAnswer('The answer is 10 years.')).toBe('10 years');
    expect(parseQaAnswer('THE ANSWER IS Paris')).toBeNull();
  });
  test('"the answer is" beats "correct answer is" even when the latter comes later', () => {
    expect(parseQaAnswer('I think the answer is Bob.\nThe correct answer is Alice.')).toBe('Bob');
    // Without a newline the whole rest of the line is the span (the spec's "→ Bob" is loose).
    expect(parseQaAnswer('I think the answer is Bob. The correct answer is Alice.')).toBe(
      'Bob. The correct answer is Alice',
    );
  });
  test('the LAST occurrence of the winning marker is used', () => {
    expect(parseQaAnswer('answer is A. Actually the answer is B. Or the answer is C.')).toBe('C');
  });
  test('the "insert answer here" placeholder gives null', () => {
    expect(parseQaAnswer('The correct answer is (insert answer here).')).toBeNull();
  });
  test('asterisks and DeepSeek tokens are removed; only the first line is kept', () => {
    expect(parseQaAnswer('The correct answer is **Jane Ballou**.\nExplanation: …')).toBe(
      'Jane Ballou',
    );
    expect(parseQaAnswer('answer is X<｜end▁of▁sentence｜>')).toBe('X');
  });
  test('whitespace and dots are stripped at both ends', () => {
    expect(parseQaAnswer('answer is ... Paris ...\n')).toBe('Paris');
  });
  test('no marker → null', () => {
    expect(parseQaAnswer('Paris')).toBeNull();
  });
});

describe('scoreQa (spell-eval.md §7b vectors)', () => {
  test.each([
    ['The correct answer is The Eiffel Tower.', 'Eiffel Tower', 'The Eiffel Tower', 1, 1, 1, 1],
    ['The correct answer is Paris, France.', 'Paris', 'Paris, France', 0, 1, 1, 0.67],
    ['The correct answer is Paris.', 'Paris, France', 'Paris', 0, 0, 1, 0.67],
    ['The answer is 10 years.', '1', '10 years', 0, 1, 1, 0],
    ['The correct answer is (insert answer here).', 'Paris', null, 0, 0, 0, 0],
    ['The correct answer is yes.', 'no', 'yes', 0, 0, 0, 0],
    [
      'The correct answer is **Jane Ballou**.\nExplanation…',
      'Jane Ballou',
      'Jane Ballou',
      1,
      1,
      1,
      1,
    ],
  ])('%j vs %j', (response, answer, pred, em, strict, loose, f1) => {
    expect(scoreQa(response, gtOf(answer), 'em').score).toBe(em);
    expect(scoreQa(response, gtOf(answer), 'cem-strict')).toEqual({
      score: strict,
      pred,
      gt: answer,
      f1,
    });
    expect(scoreQa(response, gtOf(answer), 'cem-loose').score).toBe(loose);
    expect(scoreQa(response, gtOf(answer), 'f1').score).toBe(f1);
  });

  test('strict cover-EM is character-level: "1" is covered by "10 people"', () => {
    expect(scoreQa('The answer is 10 people', gtOf('1')).score).toBe(1);
  });
  test('the default metric is cem-strict', () => {
    expect(scoreQa('The correct answer is Paris.', gtOf('Paris, France')).score).toBe(0);
  });
  test('half-em gives 0.5 for containment', () => {
    expect(scoreQa('The correct answer is Paris, France.', gtOf('Paris'), 'half-em').score).toBe(
      0.5,
    );
  });
  test('unfinished thinking scores 0 with no prediction', () => {
    expect(scoreQa('<think>the answer is Paris', gtOf('Paris'))).toEqual({
      score: 0,
      pred: null,
      gt: 'Paris',
      f1: 0,
    });
  });
  test('after </think> only the final text counts', () => {
    const r = scoreQa(
      '<think>the answer is Rome</think>The correct answer is Paris.',
      gtOf('Paris'),
    );
    expect(r.pred).toBe('Paris');
    expect(r.score).toBe(1);
  });
  test('without a marker or </think> only the last 1000 characters are read', () => {
    const far = `the answer is Paris ${'x'.repeat(1000)}`;
    // "answer is" is present, so the whole response is the region and the marker is found.
    expect(scoreQa(far, gtOf('Paris')).pred).toBe(`Paris ${'x'.repeat(1000)}`);
    expect(scoreQa(`Paris ${'x'.repeat(1000)}`, gtOf('Paris')).pred).toBeNull();
  });
});

test('parseQaMetric accepts our names and the reference names', () => {
  expect(parseQaMetric('cem-strict')).toBe('cem-strict');
  expect(parseQaMetric('sub_em_loose')).toBe('cem-loose');
  expect(parseQaMetric('bogus')).toBeUndefined();
});
