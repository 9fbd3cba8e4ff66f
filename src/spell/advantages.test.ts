import { describe, expect, test } from 'vitest';
import { Rng } from '../core/rng.ts';
import {
  groupAdvantages,
  questionerAdvantages,
  responderAdvantages,
  verifierAdvantages,
} from './advantages.ts';
import type { Task } from './task.ts';

const EPS = 1e-6;

describe('GRPO advantages', () => {
  test('a literal group: [1, 0, 0, 1] uses the unbiased std sqrt(1/3)', () => {
    const a = groupAdvantages([1, 0, 0, 1], ['q', 'q', 'q', 'q'], EPS);
    const expected = 0.5 / (Math.sqrt(1 / 3) + EPS);
    expect(a[0]).toBeCloseTo(expected, 12);
    expect(a[1]).toBeCloseTo(-expected, 12);
    expect(expected).toBeCloseTo(0.866025, 5);
  });

  test('each group of random rewards sums to ~0 and groups do not leak into each other', () => {
    const rng = new Rng(11);
    for (let trial = 0; trial < 50; trial++) {
      const n = 2 + rng.int(40);
      const rewards = Array.from({ length: n }, () =>
        rng.next() < 0.5 ? rng.int(2) : rng.normal(),
      );
      const keys = Array.from({ length: n }, () => `g${rng.int(5)}`);
      const adv = groupAdvantages(rewards, keys, EPS);
      const sums = new Map<string, number>();
      keys.forEach((k, i) => sums.set(k, (sums.get(k) ?? 0) + adv[i]));
      for (const s of sums.values()) expect(Math.abs(s)).toBeLessThan(1e-9);
    }
  });

  test('a singleton group gets advantage 0, and so does a constant group', () => {
    expect(groupAdvantages([0.7, 1, 0, 1], ['lone', 'q', 'q', 'q'], EPS)[0]).toBe(0);
    expect(groupAdvantages([1, 1, 1], ['q', 'q', 'q'], EPS)).toEqual([0, 0, 0]);
  });

  test('mismatched arrays are refused', () => {
    expect(() => groupAdvantages([1, 0], ['q'], EPS)).toThrow(/one group key per reward/);
  });

  test('responder groups by question, verifier by judged answer', () => {
    expect(responderAdvantages([1, 0, 1, 1], ['a', 'a', 'b', 'b'], EPS)).toEqual(
      groupAdvantages([1, 0, 1, 1], ['a', 'a', 'b', 'b'], EPS),
    );
    const v = verifierAdvantages([1, 0, 1], ['x', 'x', 'y'], EPS);
    expect(v[2]).toBe(0);
    expect(v[0]).toBeCloseTo(-v[1], 12);
  });

  test('questioner normalisation is per task by default and batch-wide on request', () => {
    const rewards = [1, 0, -1, -0.5];
    const tasks: Task[] = ['qa', 'qa', 'mc', 'mc'];
    const perTask = questionerAdvantages(rewards, tasks, 'per-task', EPS);
    expect(perTask[0] + perTask[1]).toBeCloseTo(0, 12);
    expect(perTask[2] + perTask[3]).toBeCloseTo(0, 12);
    expect(perTask[2]).toBeLessThan(0); // -1 is the worse of the two mc rewards
    const batch = questionerAdvantages(rewards, tasks, 'batch', EPS);
    expect(batch).toEqual(groupAdvantages(rewards, ['x', 'x', 'x', 'x'], EPS));
    expect(batch[3]).toBeLessThan(0); // -0.5 is below the batch mean 0.125
  });
});
