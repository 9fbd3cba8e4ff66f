/**
 * The SPELL algorithm's own options (roles, votes, rewards, memory, batch assembly) and their
 * defaults. Defaults follow the reference code, which produced the published numbers; every
 * paper-vs-code difference that is cheap to offer is an option here (spell-algorithm.md §11).
 *
 * This file holds types and constants only. Validating a user's YAML against it, presets and
 * run sizes (gen batch, group counts, token budgets) belong to train/.
 */

/**
 * How the verifier's majority is chosen.
 * - `first-seen` (code): the most common vote; among tied values the one seen first wins.
 * - `strict-yes-majority` (paper Eq. 4): YES only when more than half of the counted votes are YES.
 */
export type TieRule = 'first-seen' | 'strict-yes-majority';

/**
 * What an unparseable verifier vote does.
 * - `penalise` (code): it is a candidate in the majority vote and earns reward -1.
 * - `ignore` (paper): it is left out of the majority vote and earns reward 0 (the paper's indicator).
 */
export type InvalidVoteMode = 'penalise' | 'ignore';

/** Over which samples questioner rewards are z-scored: each task separately (code) or all (paper). */
export type QuestionerNormScope = 'per-task' | 'batch';

/** The repeated-reference guard (repeat-guard.ts). */
export interface RepeatGuardConfig {
  /** Parsed questions per task remembered; 0 turns the guard off. */
  readonly window: number;
  /** A reference already held by this many remembered questions marks the next one bad_repeat. */
  readonly limit: number;
}

/** Which solved questions enter the history memory: `code` = lower ≤ p ≤ upper, `paper` = 0 < p < 1. */
export type HistoryPushRule = 'code' | 'paper';

/** Questioner reward mapping of the pass rate p: Gaussian around 0.5 (SPELL), 1 − p, 1 − 2|p − 0.5|. */
export type QuestionerRewardType = 'gaussian' | 'reverse' | 'rzero';

/** Verifier group selection: band only (`maj`), or band and majority == rule score (`maj_cons`). */
export type VerifierLabelType = 'maj' | 'maj_cons';

/**
 * How the rule score and a valid verifier majority combine into the responder reward. The
 * reference's `reward_combined_function` offers max (its default), mean, min and sum; `rule` is
 * ours: the verifier still votes (and is trained on the votes) but does not pay the responder —
 * for policies whose verifier is near chance, where max() pays its false YES votes.
 */
export type RewardCombine = 'max' | 'mean' | 'min' | 'sum' | 'rule';

/** Every `RewardCombine`, for validating user input. */
export const REWARD_COMBINES: readonly RewardCombine[] = ['max', 'mean', 'min', 'sum', 'rule'];

/** Every knob of the pure algorithm. All fields are required; start from `DEFAULT_ALGORITHM_CONFIG`. */
export interface AlgorithmConfig {
  readonly verifier: {
    /** Majority tie rule; `first-seen` is the code's behaviour. */
    readonly tieRule: TieRule;
    /** Treatment of unparseable votes; `penalise` is the code's behaviour. */
    readonly invalidVotes: InvalidVoteMode;
    /** Lowest fraction of valid votes agreeing with the majority for a group to be trained on. */
    readonly agreementLower: number;
    /** Highest such fraction; below 1 so unanimous groups (no signal) are skipped. */
    readonly agreementUpper: number;
    /** `maj_cons` also requires the majority to equal the rule score (anchors the verifier). */
    readonly labelType: VerifierLabelType;
    /** Verifier trajectories per update = responder trajectories × this ratio. */
    readonly updateRatio: number;
    /** Responder reward from rule score and majority; `max` is the code's behaviour. */
    readonly rewardCombine: RewardCombine;
  };
  readonly questioner: {
    /** Pass-rate → reward mapping for good questions. */
    readonly rewardType: QuestionerRewardType;
    /** σ of the Gaussian mapping; 1/6 puts p = 0 and p = 1 at 3σ. */
    readonly gaussianSigma: number;
    /** Reward of an output that does not parse (missing keys, wrong types, bad MC letter). */
    readonly badFormatReward: number;
    /** Reward of a question the responder answers correctly without any documents. */
    readonly badGroundReward: number;
    /** Reward of a question every rollout solved or every rollout failed. */
    readonly zeroVarianceReward: number;
    /** Advantage normalisation scope; `per-task` is the code's behaviour. */
    readonly normScope: QuestionerNormScope;
    /** Free-form QA answers longer than this many tokens are dropped (the prompt asks for ~20). */
    readonly qaAnswerMaxTokens: number;
    /** A grounding-filter rule score at or above this marks the question bad_ground. */
    readonly groundingThreshold: number;
    /** Free-form QA references must occur in the questioner's documents (else bad_format). */
    readonly qaAnswerInDocuments: boolean;
    /** An MC answer under another letter than the prompt required: penalised, or swapped there. */
    readonly mcWrongLetter: 'format_error' | 'swap';
    /** Repeated-reference guard (repeat-guard.ts): window 0 turns it off. */
    readonly repeatGuard: RepeatGuardConfig;
  };
  readonly history: {
    /** Entries kept per cluster and task (L); the oldest is evicted first. */
    readonly capacity: number;
    /** Push condition variant. */
    readonly pushRule: HistoryPushRule;
    /** Lowest pass rate pushed under the `code` rule. */
    readonly pushLower: number;
    /** Highest pass rate pushed under the `code` rule (1.0 also pushes fully solved questions). */
    readonly pushUpper: number;
  };
  readonly batch: {
    /** Bad questioner samples drawn per good one, per task. */
    readonly badCaseRatio: number;
    /** Bad questioner and verifier lists are cut to a multiple of this (8 GPUs in the paper). */
    readonly worldSize: number;
  };
  /** ε added to the standard deviation in every GRPO z-score. */
  readonly advantageEpsilon: number;
}

/** The reference code's choices (spell-algorithm.md §12), with world size 1 for one machine. */
export const DEFAULT_ALGORITHM_CONFIG: AlgorithmConfig = {
  verifier: {
    tieRule: 'first-seen',
    invalidVotes: 'penalise',
    agreementLower: 0.51,
    agreementUpper: 0.99,
    labelType: 'maj_cons',
    updateRatio: 0.125,
    rewardCombine: 'max',
  },
  questioner: {
    rewardType: 'gaussian',
    gaussianSigma: 1 / 6,
    badFormatReward: -1,
    badGroundReward: -0.5,
    zeroVarianceReward: 0,
    normScope: 'per-task',
    qaAnswerMaxTokens: 40,
    groundingThreshold: 0.1,
    qaAnswerInDocuments: false,
    mcWrongLetter: 'format_error',
    repeatGuard: { window: 0, limit: 8 },
  },
  history: {
    capacity: 3,
    pushRule: 'code',
    pushLower: 0.01,
    pushUpper: 1.0,
  },
  batch: {
    badCaseRatio: 1,
    worldSize: 1,
  },
  advantageEpsilon: 1e-6,
};
