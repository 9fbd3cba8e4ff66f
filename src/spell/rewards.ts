/**
 * Rewards per role (spell-algorithm.md §6): the questioner's mapping of the responder pass rate,
 * the questioner's bad-case labels, the grounding verdict, the verifier's self-consistency vote
 * rewards, and which verifier groups are worth training on. Pure functions of plain numbers.
 */

import type {
  AlgorithmConfig,
  InvalidVoteMode,
  QuestionerRewardConfig,
  QuestionerRewardType,
} from './config.ts';
import type { Vote } from './verifier.ts';

/** Why a questioner sample is a negative example; the label is kept for logging and sampling. */
export type BadCaseLabel = 'bad_format' | 'bad_ground' | 'bad_repeat' | 'zero_variance';

/** What happened to one questioner sample, as far as its reward is concerned. */
export type QuestionerOutcome =
  { readonly kind: 'good'; readonly passRate: number } | { readonly kind: BadCaseLabel };

/**
 * Map a pass rate p in (0, 1) to the questioner's reward.
 * - `gaussian`: exp(−(p − 0.5)² / (2σ²)), 1 at p = 0.5 (SPELL, Eq. 7);
 * - `reverse`: 1 − p (AZR-like); `rzero`: 1 − 2|p − 0.5| (R-Zero-like).
 */
export function questionerMapping(p: number, type: QuestionerRewardType, sigma: number): number {
  switch (type) {
    case 'gaussian':
      return Math.exp(-((p - 0.5) ** 2) / (2 * sigma * sigma));
    case 'reverse':
      return 1 - p;
    case 'rzero':
      return 1 - 2 * Math.abs(p - 0.5);
  }
}

/**
 * The questioner's reward for one sample. A "good" sample whose pass rate is 0 or 1 gets the
 * zero-variance reward, like the reference (no signal about difficulty is left there).
 */
export function questionerReward(outcome: QuestionerOutcome, cfg: QuestionerRewardConfig): number {
  switch (outcome.kind) {
    case 'bad_format':
      return cfg.badFormatReward;
    case 'bad_ground':
    case 'bad_repeat':
      // A reference the questioner keeps repeating is answerable without reading, like one
      // the responder guesses without documents.
      return cfg.badGroundReward;
    case 'zero_variance':
      return cfg.zeroVarianceReward;
    case 'good':
      if (outcome.passRate <= 0 || outcome.passRate >= 1) return cfg.zeroVarianceReward;
      return questionerMapping(outcome.passRate, cfg.questionerReward, cfg.gaussianSigma);
  }
}

/** Mean of a responder group's final scores (the pass rate p). */
export function passRate(scores_G: readonly number[]): number {
  if (scores_G.length === 0) throw new RangeError('pass rate of an empty responder group');
  return scores_G.reduce((a, b) => a + b, 0) / scores_G.length;
}

/**
 * Dynamic sampling: a responder group whose scores all agree (population std 0) teaches
 * nothing and is dropped as `zero_variance`; any spread keeps it as `good`.
 */
export function classifyResponderGroup(scores_G: readonly number[]): 'good' | 'zero_variance' {
  const first = scores_G[0];
  return scores_G.every((s) => s === first) ? 'zero_variance' : 'good';
}

/**
 * The grounding filter: a question the responder answers correctly with no documents (rule
 * score ≥ threshold) does not test the documents and is labelled bad_ground.
 */
export function isBadGround(noDocumentRuleScore: number, threshold: number): boolean {
  return noDocumentRuleScore >= threshold;
}

/**
 * Self-consistency rewards of one verifier group (Eq. 5): +1 for agreeing with the majority,
 * 0 for a valid disagreeing vote, and for an invalid vote −1 (`penalise`) or 0 (`ignore`).
 * With no usable majority every vote gets the invalid-vote value; such groups are never
 * selected for training anyway.
 */
export function verifierVoteRewards(
  votes_G: readonly Vote[],
  majority: Vote,
  invalidVotes: InvalidVoteMode,
): number[] {
  const invalidReward = invalidVotes === 'penalise' ? -1 : 0;
  if (majority === -1) return votes_G.map(() => invalidReward);
  return votes_G.map((v) => (v === -1 ? invalidReward : v === majority ? 1 : 0));
}

/** Fraction of the VALID votes equal to the majority; undefined without valid votes or majority. */
export function verifierAgreement(votes_G: readonly Vote[], majority: Vote): number | undefined {
  if (majority === -1) return undefined;
  const valid = votes_G.filter((v) => v !== -1);
  if (valid.length === 0) return undefined;
  return valid.filter((v) => v === majority).length / valid.length;
}

/**
 * Whether a verifier group goes into the step's verifier buffer: its agreement lies in
 * [lower, upper] (drops unanimous groups and near-ties) and, for `maj_cons`, the majority equals
 * the responder answer's rule score, which anchors the verifier to checkable outcomes.
 */
export function selectVerifierGroup(
  votes_G: readonly Vote[],
  majority: Vote,
  ruleScore: number,
  cfg: AlgorithmConfig['verifier'],
): boolean {
  const a = verifierAgreement(votes_G, majority);
  if (a === undefined || a < cfg.agreementLower || a > cfg.agreementUpper) return false;
  return cfg.labelType === 'maj' || majority === ruleScore;
}
