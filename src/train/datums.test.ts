import { describe, expect, test } from 'vitest';
import { advantageScale, buildDatum, buildDatums } from './datums.ts';

describe('datums', () => {
  test('prompt positions carry no advantage and targets are shifted by one', () => {
    const d = buildDatum(
      { promptIds: [1, 2, 3], tokens: [7, 8], logprobs: [-0.5, -0.25], advantage: 2 },
      1,
    );
    expect(d.modelInput).toEqual([1, 2, 3, 7]);
    expect(d.targetTokens).toEqual([2, 3, 7, 8]);
    expect(d.advantages).toEqual([0, 0, 2, 2]);
    expect(d.logprobs).toEqual([0, 0, -0.5, -0.25]);
  });

  test('token-mean on a summing engine divides by the trained tokens of the batch', () => {
    const ts = [
      { promptIds: [1], tokens: [2, 3, 4], logprobs: [0, 0, 0], advantage: 1 },
      { promptIds: [1], tokens: [5], logprobs: [0], advantage: -1 },
    ];
    expect(advantageScale(ts, 'token-mean', 'sum')).toBe(0.25);
    expect(advantageScale(ts, 'token-mean', 'sequence-token-mean')).toBe(1);
    expect(advantageScale(ts, 'sum', 'sum')).toBe(1);
    const ds = buildDatums(ts, 'token-mean', 'sum');
    expect(ds[1].advantages).toEqual([-0.25]);
  });

  test('empty responses are left out', () => {
    const ds = buildDatums(
      [{ promptIds: [1, 2], tokens: [], logprobs: [], advantage: 1 }],
      'token-mean',
      'sum',
    );
    expect(ds).toHaveLength(0);
  });
});
