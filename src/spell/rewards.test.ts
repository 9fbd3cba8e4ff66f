import { describe, expect, test } from 'vitest';
import { DEFAULT_ALGORITHM_CONFIG } from './config.ts';
import {
  classifyResponderGroup,
  isBadGround,
  passRate,
  questionerMapping,
  questionerReward,
  selectVerifierGroup,
  verifierAgreement,
  verifierVoteRewards,
} from './rewards.ts';
import type { Vote } from './verifier.ts';

const Q = DEFAULT_ALGORITHM_CONFIG;
const V = DEFAULT_ALGORITHM_CONFIG.verifier;

describe('questioner rewards', () => {
  test.each([
    [1 / 8, 0.0796],
    [2 / 8, 0.3247],
    [3 / 8, 0.7548],
    [4 / 8, 1],
    [5 / 8, 0.7548],
    [6 / 8, 0.3247],
    [7 / 8, 0.0796],
  ])('the Gaussian mapping at p = %f is %f (§6.2 table)', (p, r) => {
    expect(questionerReward({ kind: 'good', passRate: p }, Q)).toBeCloseTo(r, 4);
  });

  test('reverse and rzero mappings', () => {
    expect(questionerMapping(0.25, 'reverse', Q.gaussianSigma)).toBe(0.75);
    expect(questionerMapping(0.25, 'rzero', Q.gaussianSigma)).toBe(0.5);
    expect(questionerMapping(0.5, 'rzero', Q.gaussianSigma)).toBe(1);
  });

  test('pass rate 0 or 1 earns the zero-variance reward under every mapping', () => {
    for (const rewardType of ['gaussian', 'reverse', 'rzero'] as const) {
      const cfg = { ...Q, questionerReward: rewardType };
      expect(questionerReward({ kind: 'good', passRate: 0 }, cfg)).toBe(0);
      expect(questionerReward({ kind: 'good', passRate: 1 }, cfg)).toBe(0);
    }
  });

  test('bad cases earn -1 (format), -0.5 (ground), 0 (zero variance)', () => {
    expect(questionerReward({ kind: 'bad_format' }, Q)).toBe(-1);
    expect(questionerReward({ kind: 'bad_ground' }, Q)).toBe(-0.5);
    expect(questionerReward({ kind: 'zero_variance' }, Q)).toBe(0);
  });

  test('pass rate, zero-variance classification and the grounding threshold', () => {
    expect(passRate([1, 0, 0, 1, 1, 0, 0, 0])).toBe(3 / 8);
    expect(classifyResponderGroup([1, 1, 1])).toBe('zero_variance');
    expect(classifyResponderGroup([0, 0, 0])).toBe('zero_variance');
    expect(classifyResponderGroup([0, 1, 0])).toBe('good');
    expect(isBadGround(0.1, Q.groundingThreshold)).toBe(true);
    expect(isBadGround(0.09, Q.groundingThreshold)).toBe(false);
    expect(() => passRate([])).toThrow(RangeError);
  });
});

describe('verifier rewards and group selection', () => {
  test('agreeing votes +1, disagreeing 0, invalid -1 (penalise) or 0 (ignore)', () => {
    const votes: Vote[] = [1, 1, 0, -1];
    expect(verifierVoteRewards(votes, 1, 'penalise')).toEqual([1, 1, 0, -1]);
    expect(verifierVoteRewards(votes, 1, 'ignore')).toEqual([1, 1, 0, 0]);
    expect(verifierVoteRewards(votes, -1, 'penalise')).toEqual([-1, -1, -1, -1]);
  });

  test('agreement counts only valid votes', () => {
    expect(verifierAgreement([1, 1, 1, 0, -1, -1], 1)).toBe(0.75);
    expect(verifierAgreement([0, 0, 1, -1], 0)).toBeCloseTo(2 / 3, 12);
    expect(verifierAgreement([-1, -1], 1)).toBeUndefined();
    expect(verifierAgreement([1, 0], -1)).toBeUndefined();
  });

  test('groups inside the 0.51..0.99 band whose majority equals the rule score are selected', () => {
    const sixOfEight: Vote[] = [1, 1, 1, 1, 1, 1, 0, 0];
    expect(selectVerifierGroup(sixOfEight, 1, 1, V)).toBe(true);
    // maj_cons: the majority disagrees with the rule check
    expect(selectVerifierGroup(sixOfEight, 1, 0, V)).toBe(false);
    expect(selectVerifierGroup(sixOfEight, 1, 0, { ...V, labelType: 'maj' })).toBe(true);
    // unanimous: no signal
    expect(selectVerifierGroup([1, 1, 1, 1, 1, 1, 1, 1], 1, 1, V)).toBe(false);
    // a 4-4 tie: agreement 0.5 is below the band
    expect(selectVerifierGroup([1, 0, 1, 0, 1, 0, 1, 0], 1, 1, V)).toBe(false);
    // invalid votes do not dilute agreement: 5 of 6 valid agree
    expect(selectVerifierGroup([0, 0, 0, 0, 0, 1, -1, -1], 0, 0, V)).toBe(true);
    expect(selectVerifierGroup([-1, -1, -1, -1, -1, -1, 1, 0], -1, 0, V)).toBe(false);
  });
});
