import { describe, expect, test } from 'vitest';
import { ConfigurationError, DataError } from '../core/errors.ts';
import { Rng } from '../core/rng.ts';
import { DomainSampler, batchCounts, usableWeights, type Draw } from './sampler.ts';

const sizes = { docmath: 7, qa: 5, mc: 9 };
const equal = { docmath: 1, qa: 1, mc: 1 };

describe('batchCounts', () => {
  test.each([
    [480, [1, 1, 1], [160, 160, 160]],
    [10, [1, 1, 1], [4, 3, 3]],
    [11, [1, 1, 1], [4, 4, 3]],
    [10, [1, 2, 1], [2, 6, 2]],
    [7, [3, 0.5, 0.5], [6, 1, 0]],
  ])('batch %i with weights %j → %j', (batch, w, counts) => {
    expect(
      batchCounts(batch, [
        ['docmath', w[0]],
        ['qa', w[1]],
        ['mc', w[2]],
      ]),
    ).toEqual(counts);
  });
});

describe('DomainSampler', () => {
  test('every batch has the fixed per-task counts', () => {
    const s = DomainSampler.create({ batchSize: 10, weights: equal, sizes }, new Rng(1));
    for (let b = 0; b < 20; b++) {
      const batch = s.next();
      expect(batch.length).toBe(10);
      const count = (t: string) => batch.filter((d) => d.task === t).length;
      expect([count('docmath'), count('qa'), count('mc')]).toEqual([4, 3, 3]);
      for (const d of batch) expect(d.index).toBeLessThan(sizes[d.task]);
    }
  });

  test('a pass visits distinct clusters; when too few are left the list is reshuffled and they are lost', () => {
    // qa: 5 clusters, 3 per batch → batch 1 takes 3, 2 are left (< 3) → reshuffle, leftovers lost.
    const s = DomainSampler.create({ batchSize: 3, weights: { qa: 1 }, sizes }, new Rng(2));
    const first = s.next().map((d) => d.index);
    expect(new Set(first).size).toBe(3);
    const orderAfterFirst = s.state().domains[0].order.slice();
    const leftovers = orderAfterFirst.slice(3);
    const second = s.next().map((d) => d.index);
    expect(new Set(second).size).toBe(3);
    expect(s.state().domains[0].position).toBe(3);
    expect(leftovers.length).toBe(2);
  });

  test('a count larger than the task draws whole passes back to back', () => {
    const s = DomainSampler.create(
      { batchSize: 12, weights: { qa: 1 }, sizes: { docmath: 0, qa: 5, mc: 0 } },
      new Rng(3),
    );
    const batch = s.next().map((d) => d.index);
    const tally = new Map<number, number>();
    for (const i of batch) tally.set(i, (tally.get(i) ?? 0) + 1);
    // two full passes of 5, then 2 of a third pass
    expect([...tally.values()].sort()).toEqual([2, 2, 2, 3, 3]);
  });

  test('a resumed sampler (state through JSON) draws exactly what an uninterrupted one draws', () => {
    const config = { batchSize: 8, weights: { docmath: 2, qa: 1, mc: 1 }, sizes };
    const straight = DomainSampler.create(config, new Rng(9));
    const expected: Draw[][] = [];
    for (let i = 0; i < 12; i++) expected.push(straight.next());

    const first = DomainSampler.create(config, new Rng(9));
    const got: Draw[][] = [];
    for (let i = 0; i < 5; i++) got.push(first.next());
    const saved = JSON.parse(JSON.stringify(first.state()));
    const resumed = DomainSampler.fromState(saved, sizes);
    for (let i = 5; i < 12; i++) got.push(resumed.next());
    expect(got).toEqual(expected);
  });

  test('state() is a copy: drawing does not change a saved state', () => {
    const s = DomainSampler.create({ batchSize: 4, weights: equal, sizes }, new Rng(4));
    const saved = s.state();
    const copy = JSON.stringify(saved);
    s.next();
    expect(JSON.stringify(saved)).toBe(copy);
  });

  test('restoring against a changed corpus or a malformed state is a DataError', () => {
    const s = DomainSampler.create({ batchSize: 4, weights: equal, sizes }, new Rng(4));
    const state = s.state();
    expect(() => DomainSampler.fromState(state, { ...sizes, qa: 6 })).toThrow(
      /saved for 5 qa clusters/,
    );
    expect(() => DomainSampler.fromState({ ...state, version: 2 }, sizes)).toThrow(DataError);
    const broken = {
      ...state,
      domains: state.domains.map((d) => ({ ...d, order: d.order.map(() => 0) })),
    };
    expect(() => DomainSampler.fromState(broken, sizes)).toThrow(/not a permutation/);
  });

  test('bad settings are refused with the value named', () => {
    expect(() => DomainSampler.create({ batchSize: 0, weights: equal, sizes }, new Rng(1))).toThrow(
      ConfigurationError,
    );
    expect(() =>
      DomainSampler.create(
        { batchSize: 3, weights: { mc: 1 }, sizes: { ...sizes, mc: 0 } },
        new Rng(1),
      ),
    ).toThrow(/task mc has weight 1 but the corpus routes no clusters/);
    expect(() =>
      DomainSampler.create({ batchSize: 3, weights: { qa: -1 }, sizes }, new Rng(1)),
    ).toThrow(/must be >= 0, got -1/);
  });
});

describe('usableWeights', () => {
  test('a weighted task without clusters gets weight 0 and is named', () => {
    expect(usableWeights(equal, { docmath: 0, qa: 4, mc: 5 })).toEqual({
      weights: { docmath: 0, qa: 1, mc: 1 },
      dropped: ['docmath'],
    });
  });

  test('unchanged when every weighted task has clusters, or when none has', () => {
    expect(usableWeights({ docmath: 0, qa: 1, mc: 2 }, { docmath: 0, qa: 1, mc: 1 })).toEqual({
      weights: { docmath: 0, qa: 1, mc: 2 },
      dropped: [],
    });
    expect(usableWeights({ docmath: 1, qa: 0, mc: 0 }, { docmath: 0, qa: 3, mc: 3 })).toEqual({
      weights: { docmath: 1, qa: 0, mc: 0 },
      dropped: [],
    });
  });
});
