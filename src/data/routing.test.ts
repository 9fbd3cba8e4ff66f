import { describe, expect, test } from 'vitest';
import type { Cluster } from './cluster.ts';
import { DEFAULT_ROUTING, matchPrefix, routeClusters, splitSizes } from './routing.ts';

const web = (n: number): Cluster[] =>
  Array.from({ length: n }, (_, i) => ({
    id: `w${i}`,
    source: 'ultrafineweb_x',
    documents: ['d'],
  }));

describe('routing', () => {
  test.each([
    [10, 2, [5, 5]],
    [11, 2, [6, 5]],
    [10, 3, [4, 3, 3]],
    [2, 3, [1, 1, 0]],
  ])('splitSizes(%i, %i) = %j (near-equal, larger parts first)', (n, k, sizes) => {
    expect(splitSizes(n, k)).toEqual(sizes);
  });

  test('a source used by two tasks is split into near-equal disjoint halves covering it', () => {
    const { byTask } = routeClusters(web(11), DEFAULT_ROUTING, 1);
    expect(byTask.qa.length).toBe(6);
    expect(byTask.mc.length).toBe(5);
    const ids = [...byTask.qa, ...byTask.mc].map((c) => c.id).sort();
    expect(ids).toEqual(
      web(11)
        .map((c) => c.id)
        .sort(),
    );
  });

  test('the split is seeded: same seed same split, other seed another split', () => {
    const ids = (seed: number) =>
      routeClusters(web(40), DEFAULT_ROUTING, seed).byTask.qa.map((c) => c.id);
    expect(ids(5)).toEqual(ids(5));
    expect(ids(5)).not.toEqual(ids(6));
  });

  test('an explicit task wins over the source; unknown sources are reported unrouted', () => {
    const clusters: Cluster[] = [
      { id: 'a', source: 'docmath_1', documents: ['d'] },
      { id: 'b', source: 'docmath_2', task: 'mc', documents: ['d'] },
      { id: 'c', source: 'blogs', documents: ['d'] },
      { id: 'd', source: 'blogs', task: 'qa', documents: ['d'] },
    ];
    const { byTask, unrouted } = routeClusters(clusters, DEFAULT_ROUTING, 0);
    expect(byTask.docmath.map((c) => c.id)).toEqual(['a']);
    expect(byTask.mc.map((c) => c.id)).toEqual(['b']);
    expect(byTask.qa.map((c) => c.id)).toEqual(['d']);
    expect(unrouted.map((c) => c.id)).toEqual(['c']);
  });

  test('the longest matching prefix wins', () => {
    const table = { web: ['qa', 'mc'], web_math: ['docmath'] } as const;
    expect(matchPrefix('web_math_7', table)).toBe('web_math');
    expect(matchPrefix('web_7', table)).toBe('web');
    expect(matchPrefix('other', table)).toBeUndefined();
  });
});
