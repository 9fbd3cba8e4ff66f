import { describe, expect, test } from 'vitest';
import { parseMcAnswer, scoreMc } from './mc.ts';

describe('parseMcAnswer (spell-eval.md §6c)', () => {
  test.each([
    ['The correct answer is (B)', 'B'],
    ['The correct answer is C.', 'C'],
    ['so \\boxed{D}', 'D'],
    ['the answer is (A)', 'A'],
    ['answer is B', 'B'],
    ['**The correct answer is (C)**', 'C'],
    ['The correct answer is Answer D', 'A'], // "Answer" starts with A
    ['the correct answer is (c)', null], // lowercase capture → null, no fallback
    ['The correct answer is a bit unclear, maybe (B)', null],
    ['no letter here', null],
  ])('%j → %j', (text, want) => {
    expect(parseMcAnswer(text)).toBe(want);
  });

  test('the first matching pattern wins, using its last match', () => {
    // A boxed letter beats any later "correct answer is".
    expect(parseMcAnswer('\\boxed{A} ... The correct answer is (B)')).toBe('A');
    expect(parseMcAnswer('The correct answer is (A). The correct answer is (B).')).toBe('B');
    // "correct answer is (X)" beats a later "answer is X".
    expect(parseMcAnswer('correct answer is (A); final answer is D')).toBe('A');
  });
});

describe('scoreMc', () => {
  test('1 when the letters agree, 0 otherwise', () => {
    expect(scoreMc('The correct answer is (B)', 'The correct answer is B')).toEqual({
      score: 1,
      pred: 'B',
      gt: 'B',
    });
    expect(scoreMc('The correct answer is (C)', 'The correct answer is B').score).toBe(0);
  });
  test('a lowercase letter scores 0 even when it names the right option', () => {
    expect(scoreMc('the correct answer is (b)', 'The correct answer is B')).toEqual({
      score: 0,
      pred: null,
      gt: 'B',
    });
  });
  test('unfinished thinking scores 0', () => {
    expect(scoreMc('<think>The correct answer is (B)', 'The correct answer is B').pred).toBeNull();
  });
  test('without a marker only the last 300 characters are read', () => {
    const text = `\\boxed{B}${'x'.repeat(300)}`;
    expect(scoreMc(text, 'The correct answer is B').pred).toBeNull();
  });
});
