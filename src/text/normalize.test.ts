import { describe, expect, test } from 'vitest';
import {
  coverEmLoose,
  coverEmStrict,
  exactMatch,
  halfEm,
  lastCodePoints,
  normalizeAnswer,
  pyRound,
  pySplitWhitespace,
  pyStrip,
  tokenF1,
} from './normalize.ts';

describe('Python-compatible string helpers', () => {
  test('strip and split use Python whitespace (U+001C and U+0085 yes, U+FEFF no)', () => {
    expect(pyStrip('\x85 x \n')).toBe('x');
    expect(pyStrip('\ufeffx')).toBe('\ufeffx');
    expect(pySplitWhitespace(' a\x1cb\u00a0c\ufeffd ')).toEqual(['a', 'b', 'c\ufeffd']);
    expect(pyStrip('..x..', '.')).toBe('x');
  });

  test('lastCodePoints never splits a surrogate pair', () => {
    expect(lastCodePoints('ab😀c', 2)).toBe('😀c');
    expect(lastCodePoints('abc', 10)).toBe('abc');
  });

  test.each([
    [0.125, 0.12],
    [0.375, 0.38],
    [0.665, 0.67],
    [1.005, 1],
    [2 / 3, 0.67],
    [0.5, 0.5],
    [-0.125, -0.12],
  ])('pyRound(%f, 2) is %f like Python round', (x, want) => {
    expect(pyRound(x, 2)).toBe(want);
  });
});

describe('SQuAD normalisation', () => {
  test.each([
    ['The Eiffel Tower', 'eiffel tower'],
    ['Eiffel-Tower', 'eiffeltower'],
    ['  A  cat, an   apple; THE end. ', 'cat apple end'],
    ['another theme', 'another theme'],
    ['éthe', 'éthe'],
  ])('normalizeAnswer(%j) = %j', (s, want) => {
    expect(normalizeAnswer(s)).toBe(want);
  });
});

describe('QA metrics (spell-eval.md §7b vectors)', () => {
  test.each([
    // pred, gt, em, strict, loose, f1
    ['The Eiffel Tower', 'Eiffel Tower', 1, 1, 1, 1],
    ['Paris, France', 'Paris', 0, 1, 1, 0.67],
    ['Paris', 'Paris, France', 0, 0, 1, 0.67],
    ['10 years', '1', 0, 1, 1, 0],
    ['yes', 'no', 0, 0, 0, 0],
    ['Jane Ballou', 'Jane Ballou', 1, 1, 1, 1],
  ])('%j vs %j → em %d, cem-strict %d, cem-loose %d, f1 %d', (p, g, em, strict, loose, f1) => {
    expect(exactMatch(p, g)).toBe(em);
    expect(coverEmStrict(p, g)).toBe(strict);
    expect(coverEmLoose(p, g)).toBe(loose);
    expect(pyRound(tokenF1(p, g), 2)).toBe(f1);
  });

  test('empty normalised strings score 0 on every metric', () => {
    for (const f of [exactMatch, coverEmStrict, coverEmLoose, halfEm, tokenF1]) {
      expect(f('the', 'the')).toBe(0);
      expect(f('', 'x')).toBe(0);
    }
  });

  test('half-EM gives 1 for equal, 0.5 for containment either way, 0 otherwise', () => {
    expect(halfEm('Paris', 'paris.')).toBe(1);
    expect(halfEm('Paris, France', 'Paris')).toBe(0.5);
    expect(halfEm('Paris', 'Paris France')).toBe(0.5);
    expect(halfEm('Rome', 'Paris')).toBe(0);
  });

  test('token F1 counts repeated tokens as a multiset and zeroes yes/no mismatches', () => {
    // 'x b b' vs 'b b c': 2 common tokens of 3 on each side → F1 2/3.
    expect(tokenF1('x b b', 'b b c')).toBeCloseTo(2 / 3, 12);
    expect(tokenF1('x b', 'b b c')).toBeCloseTo(0.4, 12);
    expect(tokenF1('no', 'no')).toBe(1);
    expect(tokenF1('yes it is', 'yes')).toBe(0);
    expect(tokenF1('no answer', 'noanswer')).toBe(0);
  });
});

test('strip with astral characters in the set removes whole code points', () => {
  expect(pyStrip('😀x😀', '😀')).toBe('x');
  expect(pyStrip('😀x😀')).toBe('😀x😀');
});
