import { describe, expect, test } from 'vitest';
import { Rng } from './rng.ts';

describe('Rng', () => {
  test('equal seeds give equal streams and different seeds differ', () => {
    const a = new Rng(42);
    const b = new Rng(42);
    const c = new Rng(43);
    const xa = Array.from({ length: 8 }, () => a.nextU32());
    const xb = Array.from({ length: 8 }, () => b.nextU32());
    const xc = Array.from({ length: 8 }, () => c.nextU32());
    expect(xa).toEqual(xb);
    expect(xa).not.toEqual(xc);
  });

  test('a restored state continues the stream exactly', () => {
    const a = new Rng(7);
    for (let i = 0; i < 13; i++) a.next();
    const b = Rng.fromState(JSON.parse(JSON.stringify(a.state())));
    expect(Array.from({ length: 5 }, () => b.next())).toEqual(
      Array.from({ length: 5 }, () => a.next()),
    );
  });

  test('next() is uniform in [0,1) to within sampling error', () => {
    const rng = new Rng(1);
    const n = 20000;
    const bins = new Array<number>(10).fill(0);
    for (let i = 0; i < n; i++) {
      const x = rng.next();
      expect(x).toBeGreaterThanOrEqual(0);
      expect(x).toBeLessThan(1);
      bins[Math.floor(x * 10)] += 1;
    }
    for (const b of bins) expect(Math.abs(b - n / 10)).toBeLessThan(0.1 * (n / 10));
  });

  test('sample draws distinct items and rejects k > n', () => {
    const rng = new Rng(3);
    const s = rng.sample([1, 2, 3, 4, 5, 6], 4);
    expect(new Set(s).size).toBe(4);
    expect(() => rng.sample([1, 2], 3)).toThrow(RangeError);
  });

  test('setState rejects malformed state', () => {
    expect(() => Rng.fromState([1, 2, 3] as unknown as [number, number, number, number])).toThrow(
      /four uint32/,
    );
  });
});
