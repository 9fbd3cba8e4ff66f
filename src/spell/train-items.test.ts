import { describe, expect, test } from 'vitest';
import { DEFAULT_ALGORITHM_CONFIG } from './config.ts';
import { computeTrainItems } from './train-items.ts';

const A = DEFAULT_ALGORITHM_CONFIG;

describe('computeTrainItems', () => {
  test('rewards per role and GRPO advantages on literal values, in datum order', () => {
    const items = computeTrainItems(
      {
        responder: [
          { uid: 'q0', task: 'qa', reward: 1, payload: 'r0' },
          { uid: 'q0', task: 'qa', reward: 0, payload: 'r1' },
        ],
        questionerGood: [{ uid: 'q0', task: 'qa', passRate: 0.5, payload: 'g0' }],
        questionerBad: [{ uid: 'q1', task: 'qa', label: 'bad_format', payload: 'b0' }],
        verifier: [
          { uid: 'v0', task: 'qa', reward: 1, payload: 'v0a' },
          { uid: 'v0', task: 'qa', reward: 1, payload: 'v0b' },
          { uid: 'v0', task: 'qa', reward: 0, payload: 'v0c' },
        ],
      },
      A,
    );
    expect(items.map((i) => [i.role, i.payload, i.reward])).toEqual([
      ['responder', 'r0', 1],
      ['responder', 'r1', 0],
      ['questioner', 'g0', 1], // Gaussian at p = 0.5
      ['questioner', 'b0', -1],
      ['verifier', 'v0a', 1],
      ['verifier', 'v0b', 1],
      ['verifier', 'v0c', 0],
    ]);
    const adv = items.map((i) => i.advantage);
    // responder: rewards 1, 0 → mean 0.5, unbiased std √0.5 → ±0.7071 (ε = 1e-6)
    expect(adv[0]).toBeCloseTo(Math.SQRT1_2, 5);
    expect(adv[1]).toBeCloseTo(-Math.SQRT1_2, 5);
    // questioner (per task): rewards 1, −1 → mean 0, std √2 → ±0.7071
    expect(adv[2]).toBeCloseTo(Math.SQRT1_2, 5);
    expect(adv[3]).toBeCloseTo(-Math.SQRT1_2, 5);
    // verifier: rewards 1, 1, 0 → mean 2/3, std √(1/3)
    expect(adv[4]).toBeCloseTo(1 / Math.sqrt(3), 5);
    expect(adv[6]).toBeCloseTo(-2 / Math.sqrt(3), 5);
  });

  test('questioner advantages per task, or over the batch', () => {
    const batch = {
      responder: [],
      questionerGood: [],
      questionerBad: [
        { uid: 'a', task: 'qa' as const, label: 'bad_format' as const, payload: 0 },
        { uid: 'b', task: 'qa' as const, label: 'zero_variance' as const, payload: 1 },
        { uid: 'c', task: 'mc' as const, label: 'bad_ground' as const, payload: 2 },
      ],
      verifier: [],
    };
    const perTask = computeTrainItems(batch, A).map((i) => i.advantage);
    expect(perTask[0]).toBeCloseTo(-Math.SQRT1_2, 5);
    expect(perTask[1]).toBeCloseTo(Math.SQRT1_2, 5);
    expect(perTask[2]).toBe(0); // a task with one sample has nothing to compare with
    const batchWide = computeTrainItems(batch, { ...A, questionerNormalization: 'batch' });
    // rewards −1, 0, −0.5: mean −0.5, std 0.5
    expect(batchWide.map((i) => i.reward)).toEqual([-1, 0, -0.5]);
    expect(batchWide[2].advantage).toBeCloseTo(0, 9);
    expect(batchWide[1].advantage).toBeCloseTo(1, 5);
  });
});
