import { describe, expect, test } from 'vitest';
import { NearDuplicateIndex, jaccard, questionTokens } from './near-duplicate.ts';

describe('near-duplicate questions', () => {
  test('normalisation ignores case, punctuation and function words', () => {
    expect([...questionTokens('What is the TOTAL revenue of Acme, in 2021?')].sort()).toEqual([
      '2021',
      'acme',
      'revenue',
      'total',
    ]);
  });

  test('Jaccard of literal sets', () => {
    expect(jaccard(new Set(['a', 'b', 'c']), new Set(['b', 'c', 'd']))).toBeCloseTo(2 / 4);
    expect(jaccard(new Set(), new Set())).toBe(1);
    expect(jaccard(new Set(['x']), new Set())).toBe(0);
  });

  test('a reworded question on the same cluster is caught; another cluster is not', () => {
    const index = new NearDuplicateIndex(0.8);
    index.add('qa|c1', 4, 'What was the total revenue of Acme Corp in 2021?');
    const reworded = 'In 2021, what was the total revenue of Acme Corp?';
    expect(index.check('qa|c1', reworded)).toEqual({ slot: 4, similarity: 1 });
    expect(index.check('qa|c2', reworded)).toBeUndefined();
    expect(
      index.check('qa|c1', 'Which city hosted the Acme Corp founding meeting?'),
    ).toBeUndefined();
  });

  test('the best match above the threshold is reported', () => {
    const index = new NearDuplicateIndex(0.5);
    index.add('k', 1, 'alpha beta gamma delta');
    index.add('k', 2, 'alpha beta gamma epsilon');
    expect(index.check('k', 'alpha beta gamma epsilon zeta')).toEqual({ slot: 2, similarity: 0.8 });
  });

  test('a threshold outside (0, 1] is refused', () => {
    expect(() => new NearDuplicateIndex(0)).toThrow(RangeError);
    expect(() => new NearDuplicateIndex(1.5)).toThrow(RangeError);
  });
});
