import { describe, expect, test } from 'vitest';
import { PARSE_FAILURE_SENTINEL } from './arith.ts';
import {
  compareDocmathNumbers,
  docmathAccuracy,
  extractDocmathAnswer,
  normalizeDocmath,
  normalizeDocmathString,
  scoreDocmath,
} from './docmath.ts';

const gtOf = (answer: string): string => `The correct answer is ${answer}`;

describe('DocMath test vectors (spell-eval.md §7a)', () => {
  test.each([
    ['…</think>\n\nTherefore, the answer is 12.5.', '12.5', '12.5', 1],
    ['Therefore, the answer is 12.5%.', '0.125', '12.5', 1],
    ['Therefore, the answer is 1,234.', '1.234', '1234', 1],
    ['Therefore, the answer is -5.', '5.0', '-5', 1],
    ['Therefore, the answer is 12.34.', '12.3449', '12.34', 1],
    ['Therefore, the answer is 12.3.', '12.3449', '12.3', 0],
    ['Therefore, the answer is $3.2 million.', '3.2', '$3.2', 1],
    ['Therefore, the answer is (7).', '7.0', '7', 1],
    ['so \\boxed{1,500.25}.', '1500.25', '1500.25', 1],
    ['so \\boxed{12\\%}', '12.0', '12\\%', 1],
    ['Therefore, the answer is 007.', '7.0', '007', 0],
    ['Therefore, the answer is -$5.', '-5.0', null, 0],
    ['<think>still thinking, the answer is 3', '3.0', null, 0],
    ['reasoning with no marker 42', '42.0', null, 0],
    ['Therefore, the answer is 0.0004.', '0.0', '0.0004', 0],
    ['Therefore, the answer is 100.', '1.0', '100', 1],
  ])('%j vs gt %s → pred %j, score %d', (response, gt, pred, score) => {
    expect(scoreDocmath(response, gtOf(gt))).toEqual({ score, pred, gt });
  });
});

describe('extractDocmathAnswer', () => {
  test('the LAST \\boxed{} wins, with nested braces balanced', () => {
    expect(extractDocmathAnswer('\\boxed{1} then \\boxed{\\frac{1}{2}}')).toBe('\\frac{1}{2}');
    expect(extractDocmathAnswer('so \\boxed{{3},{4}}.')).toBe('{3}{4}');
  });
  test('an unbalanced \\boxed{ gives null, with no fallback to "answer is"', () => {
    expect(extractDocmathAnswer('the answer is 5, \\boxed{5')).toBeNull();
  });
  test('the first matching pattern wins and its LAST match is taken', () => {
    // "the answer is (NUM)" matches once; a later plain "the answer is 9" does not override it.
    expect(extractDocmathAnswer('the answer is (3). Later: the answer is 9.')).toBe('3');
    expect(extractDocmathAnswer('the answer is 3. No wait, the answer is 4.')).toBe('4');
  });
  test('patterns are case-insensitive; "correct answer is" falls to "answer is NUM"', () => {
    expect(extractDocmathAnswer('THE ANSWER IS 8')).toBe('8');
    expect(extractDocmathAnswer('The correct answer is 0.3333333333333333')).toBe(
      '0.3333333333333333',
    );
  });
  test('marker characters are optional and ordered: "$-5" parses, "-$5" does not', () => {
    expect(extractDocmathAnswer('the answer is $-5')).toBe('$-5');
    expect(extractDocmathAnswer('the answer is -$5')).toBeNull();
    expect(extractDocmathAnswer('the answer is ≈12')).toBe('≈12');
    expect(extractDocmathAnswer('the answer is **42**')).toBe('42');
  });
});

describe('normalizeDocmath (every §5.1.3 step)', () => {
  test.each([
    ['35%', 35],
    ['$1,234.5', 1234.5],
    ['12.5 million', 12.5],
    ['1/3', 1 / 3],
    ['2*5', 10],
    [' 7.. ', 7],
    ['€5', 5],
    ['x = 3 + 4', 7],
    ['a ≈ 2.5', 2.5],
    ['`9`', 9],
    ['90°', 90],
    ['approximately 3.5', 3.5],
    ['4 or 5', 4],
    ['20 dollars', 20],
    ['Rs 20', 20],
    ['20km', 20],
    ['~20', 20],
    ['2.5 x 10^6', 2.5e6],
    ['3 × 4', 12],
    ['10^-2', 0.01],
    ['1,234,567', 1234567],
    ['-1,234', -1234],
  ])('%j → %d', (s, want) => {
    expect(normalizeDocmath(s)).toBe(want);
  });

  test('yes/true map to True and no/false to False; any "True"/"False" inside wins', () => {
    expect(normalizeDocmath('yes')).toBe(true);
    expect(normalizeDocmath('true')).toBe(true);
    expect(normalizeDocmath('no')).toBe(false);
    expect(normalizeDocmath('It is False')).toBe(false);
    expect(normalizeDocmath('True or False')).toBe(true);
    expect(normalizeDocmath('Yes')).toBe(PARSE_FAILURE_SENTINEL); // only lowercase maps
  });

  test('"US" is deleted before "USD", leaving a stray D (reference quirk)', () => {
    expect(normalizeDocmathString('USD')).toBe('D');
    expect(normalizeDocmathString('5 USD')).toBe('5'); // "5 D", then the unit is dropped
    expect(normalizeDocmath('USD5')).toBe(5); // "D5", then stripped as a 1–2 char prefix
  });

  test('empty, unparseable and option answers give the sentinel', () => {
    expect(normalizeDocmath('')).toBe(PARSE_FAILURE_SENTINEL);
    expect(normalizeDocmath('...')).toBe(PARSE_FAILURE_SENTINEL);
    expect(normalizeDocmath('007')).toBe(PARSE_FAILURE_SENTINEL);
    expect(normalizeDocmath('twelve thousand')).toBe(PARSE_FAILURE_SENTINEL);
    expect(normalizeDocmath('(a)')).toBe(PARSE_FAILURE_SENTINEL);
    expect(normalizeDocmath('1,2')).toBe(PARSE_FAILURE_SENTINEL);
    expect(normalizeDocmath('__import__("os")')).toBe(PARSE_FAILURE_SENTINEL);
  });

  test('a malformed comma group is not cleaned (so it evaluates to a tuple)', () => {
    expect(normalizeDocmathString('1,23')).toBe('1,23');
    expect(normalizeDocmathString('1,234.5')).toBe('1234.5');
  });
});

describe('compareDocmathNumbers', () => {
  test('the sign is ignored (5 matches -5)', () => {
    expect(compareDocmathNumbers(-5, 5)).toBe(true);
    expect(compareDocmathNumbers(5, -5)).toBe(true);
  });
  test.each([
    [0.35, 35],
    [35, 0.35],
    [1.2, 1200],
    [1200, 1.2],
    [3.5, 3.5e6],
    [2, 2e9],
    [12.5, 0.125],
  ])('scale tolerance: %d matches %d', (p, g) => {
    expect(compareDocmathNumbers(p, g)).toBe(true);
  });
  test('other power-of-ten ratios are not accepted', () => {
    expect(compareDocmathNumbers(1, 10)).toBe(false);
    expect(compareDocmathNumbers(1, 1e5)).toBe(false);
  });
  test('values equal after rounding UP to 3 decimals match', () => {
    expect(compareDocmathNumbers(0.0011, 0.0019)).toBe(true); // both ceil to 0.002
    expect(compareDocmathNumbers(0.001, 0.0011)).toBe(false); // 0.001 vs 0.002
  });
  test('0.15% relative tolerance around the ground truth', () => {
    expect(compareDocmathNumbers(100.15, 100)).toBe(true);
    expect(compareDocmathNumbers(100.16, 100)).toBe(false);
  });
  test('overflow and non-finite values never match', () => {
    expect(compareDocmathNumbers(Infinity, 5)).toBe(false);
    expect(compareDocmathNumbers(Infinity, Infinity)).toBe(false);
    expect(compareDocmathNumbers(1e306, 1e306)).toBe(false); // ceil(v1*1000) overflows
  });
  test('the sentinel only matches itself', () => {
    expect(docmathAccuracy('007', '7')).toBe(0);
    expect(docmathAccuracy('007', '999999999')).toBe(1);
  });
});

describe('docmathAccuracy types', () => {
  test('a boolean ground truth compares by Python equality (True == 1)', () => {
    expect(docmathAccuracy('yes', 'true')).toBe(1);
    expect(docmathAccuracy('1', 'true')).toBe(1);
    expect(docmathAccuracy('0', 'true')).toBe(0);
  });
  test('a boolean prediction never matches a numeric ground truth', () => {
    expect(docmathAccuracy('True', '1')).toBe(0);
  });
  test('an option or tuple ground truth scores 0 (the reference would abort)', () => {
    expect(docmathAccuracy('(a)', '(a)')).toBe(0);
    expect(docmathAccuracy('1', '1,2')).toBe(0);
  });
});
