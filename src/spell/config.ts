/**
 * The SPELL algorithm's options (roles, votes, rewards, memory, batch assembly, the learner's
 * log-prob choices) with their defaults, defined once. The train config's `algorithm` section IS
 * this schema, and `spell generate` builds its options from the same defaults, so a knob has one
 * name and one default everywhere. Defaults follow the reference code, which produced the
 * published numbers; every paper-vs-code difference that is cheap to offer is an option here
 * (spell-algorithm.md §11).
 *
 * A zod schema is a plain value: defining it here keeps spell/ free of I/O. It is applied once, at
 * the edge (train/config.ts), and the frozen result is passed down.
 */
import { z } from 'zod';

const prob = z.number().min(0).max(1);
const positiveInt = z.number().int().positive();
const nonNegInt = z.number().int().nonnegative();

/** Every `RewardCombine`, for validating user input. */
export const REWARD_COMBINES = ['max', 'mean', 'min', 'sum', 'rule'] as const;

export const AlgorithmConfigSchema = z
  .object({
    /** Questioner reward mapping of the pass rate: gaussian (paper), reverse (AZR-like), rzero. */
    questionerReward: z.enum(['gaussian', 'reverse', 'rzero']).default('gaussian'),
    /** σ of the Gaussian mapping; 1/6 puts p = 0 and p = 1 at 3σ. */
    gaussianSigma: z
      .number()
      .positive()
      .default(1 / 6),
    /** Reward of a questioner output that does not parse (missing keys, wrong types, bad MC letter). */
    badFormatReward: z.number().default(-1),
    /** Reward of a question answered correctly without documents (and of a repeated reference). */
    badGroundReward: z.number().default(-0.5),
    /** Reward of a question every rollout solved or every rollout failed. */
    zeroVarianceReward: z.number().default(0),
    /** Questioner advantage normalisation: per task (code) or over the whole questioner batch (paper). */
    questionerNormalization: z.enum(['per-task', 'batch']).default('per-task'),
    /** Verifier majority tie rule: first-seen (code) or strict YES majority (paper Eq. 4). */
    tieRule: z.enum(['first-seen', 'strict-yes-majority']).default('first-seen'),
    /** Unparseable verifier votes: penalised with -1 (code) or ignored (paper). */
    invalidVotes: z.enum(['penalise', 'ignore']).default('penalise'),
    /**
     * Responder reward from the rule score and a valid verifier majority: max (code default),
     * mean, min, sum, or rule (the verifier votes and is trained but does not pay the responder —
     * for policies whose verifier is near chance, where max() pays its false YES votes).
     */
    rewardCombine: z.enum(REWARD_COMBINES).default('max'),
    /** History push rule: code = historyPushLower <= p <= historyPushUpper, paper = 0 < p < 1. */
    historyPush: z.enum(['code', 'paper']).default('code'),
    /** Lowest pass rate pushed under the `code` rule. */
    historyPushLower: prob.default(0.01),
    /** Highest pass rate pushed under the `code` rule (1.0 also pushes fully solved questions). */
    historyPushUpper: prob.default(1.0),
    /** History memory capacity L per cluster and task; the oldest entry is evicted first. */
    memoryCapacity: nonNegInt.default(3),
    /** Grounding filter: answer without documents, drop questions the rule check accepts. */
    groundingFilter: z.boolean().default(true),
    /** Rule score at or above which a no-document answer marks the question bad_ground. */
    groundingThreshold: z.number().default(0.1),
    /** Free-form reference answers longer than this many tokens are dropped (not penalised). */
    qaMaxAnswerTokens: positiveInt.default(40),
    /**
     * A free-form QA reference answer must occur in the documents the questioner saw, else the
     * question is bad_format (off in the reference code; the local preset turns it on).
     */
    qaAnswerInDocuments: z.boolean().default(false),
    /**
     * An MC questioner answer under another letter than its prompt required: format_error
     * (penalised, our default) or swap (the right option is moved under the required letter).
     */
    mcWrongLetter: z.enum(['format_error', 'swap']).default('format_error'),
    /**
     * Repeated-reference guard (off in the reference code): a docmath or qa reference already
     * held by repeatLimit of the task's last repeatWindow parsed questions is bad_repeat.
     */
    repeatWindow: nonNegInt.default(0),
    repeatLimit: positiveInt.default(8),
    /**
     * A responder answer cut off at the generation cap: scored like any other (the reference: no
     * over-length penalty) or zero, unjudged (a guard against replies that list candidate answers
     * until the cap, which strict cover-EM can reward; docs/experiments/smollm2.md, attempt 3).
     */
    truncatedAnswers: z.enum(['score', 'zero']).default('score'),
    /**
     * A responder answer that states a final answer more than once ("answer is" twice, or two
     * \boxed{}): scored like any other (the reference extracts the last one) or zero, unjudged (a
     * guard against lists of candidates, which pay whenever the last one is right;
     * docs/experiments/smollm2.md, attempt 5).
     */
    multipleAnswers: z.enum(['score', 'zero']).default('score'),
    /** Rule metric for free-form answers. */
    qaMetric: z.enum(['cem-strict', 'cem-loose', 'em', 'f1']).default('cem-strict'),
    /**
     * The temperature of the learner's log-probs: rollout (the reference: logits / rollout
     * temperature in both log-prob passes) or raw (temperature 1, spell before issue 18).
     */
    logprobTemperature: z.enum(['rollout', 'raw']).default('rollout'),
    /**
     * π_old of the PPO ratio: recompute (the reference: the learner's log-probs on the current
     * weights, so the ratio starts at 1) or sampler (the sampler's log-probs, one pass fewer).
     */
    oldLogprobs: z.enum(['recompute', 'sampler']).default('recompute'),
    /** Bad questioner samples drawn per good one, per task. */
    badCaseRatio: z.number().min(0).default(1),
    /** Bad-case and verifier counts are cut to a multiple of this (8 GPUs in the reference). */
    worldSize: positiveInt.default(1),
    /** ε added to the standard deviation in every GRPO z-score. */
    advantageEpsilon: z.number().positive().default(1e-6),
    verifier: z
      .object({
        /** Judge responder answers with the policy itself. */
        enable: z.boolean().default(true),
        /** Train the verifier role. */
        update: z.boolean().default(true),
        /** Verifier trajectories = responderGroups * groupSize * updateRatio. */
        updateRatio: prob.default(0.125),
        /** Keep verifier groups whose valid-vote agreement with the majority lies in [lower, upper]. */
        agreementLower: prob.default(0.51),
        /** Below 1 so unanimous groups (no signal) are skipped. */
        agreementUpper: prob.default(0.99),
        /** maj_cons: also require majority == rule score (the reference scripts); maj: band only. */
        labelType: z.enum(['maj_cons', 'maj']).default('maj_cons'),
      })
      .strict()
      .prefault({}),
  })
  .strict();

/** Every knob of the algorithm, validated; start from `DEFAULT_ALGORITHM_CONFIG`. */
export type AlgorithmConfig = Readonly<
  Omit<z.infer<typeof AlgorithmConfigSchema>, 'verifier'> & {
    readonly verifier: Readonly<z.infer<typeof AlgorithmConfigSchema>['verifier']>;
  }
>;

/**
 * Cross-field rules of the section, as `key: problem` lines (empty when it is consistent); the
 * caller that validated the schema reports them with its own key prefix.
 */
export function algorithmConfigProblems(cfg: AlgorithmConfig): string[] {
  const problems: string[] = [];
  const v = cfg.verifier;
  if (v.agreementLower > v.agreementUpper) {
    problems.push(
      `verifier.agreementLower (${v.agreementLower}) must not exceed agreementUpper (${v.agreementUpper})`,
    );
  }
  if (cfg.historyPushLower > cfg.historyPushUpper) {
    problems.push(
      `historyPushLower (${cfg.historyPushLower}) must not exceed historyPushUpper (${cfg.historyPushUpper})`,
    );
  }
  return problems;
}

/** The reference code's choices (spell-algorithm.md §12), with world size 1 for one machine. */
export const DEFAULT_ALGORITHM_CONFIG: AlgorithmConfig = freezeAlgorithmConfig(
  AlgorithmConfigSchema.parse({}),
);

function freezeAlgorithmConfig(cfg: AlgorithmConfig): AlgorithmConfig {
  Object.freeze(cfg.verifier);
  return Object.freeze(cfg);
}

/**
 * How the verifier's majority is chosen.
 * - `first-seen` (code): the most common vote; among tied values the one seen first wins.
 * - `strict-yes-majority` (paper Eq. 4): YES only when more than half of the counted votes are YES.
 */
export type TieRule = AlgorithmConfig['tieRule'];

/**
 * What an unparseable verifier vote does.
 * - `penalise` (code): it is a candidate in the majority vote and earns reward -1.
 * - `ignore` (paper): it is left out of the majority vote and earns reward 0 (the paper's indicator).
 */
export type InvalidVoteMode = AlgorithmConfig['invalidVotes'];

/** Over which samples questioner rewards are z-scored: each task separately (code) or all (paper). */
export type QuestionerNormScope = AlgorithmConfig['questionerNormalization'];

/** Which solved questions enter the history memory: `code` = lower ≤ p ≤ upper, `paper` = 0 < p < 1. */
export type HistoryPushRule = AlgorithmConfig['historyPush'];

/** Questioner reward mapping of the pass rate p: Gaussian around 0.5 (SPELL), 1 − p, 1 − 2|p − 0.5|. */
export type QuestionerRewardType = AlgorithmConfig['questionerReward'];

/** Verifier group selection: band only (`maj`), or band and majority == rule score (`maj_cons`). */
export type VerifierLabelType = AlgorithmConfig['verifier']['labelType'];

/** How the rule score and a valid verifier majority combine into the responder reward. */
export type RewardCombine = AlgorithmConfig['rewardCombine'];

/** The options of the questioner's reward (rewards.ts `questionerReward`). */
export type QuestionerRewardConfig = Pick<
  AlgorithmConfig,
  | 'questionerReward'
  | 'gaussianSigma'
  | 'badFormatReward'
  | 'badGroundReward'
  | 'zeroVarianceReward'
>;

/** The options of the history push (history.ts `shouldPushToHistory`). */
export type HistoryPushConfig = Pick<
  AlgorithmConfig,
  'historyPush' | 'historyPushLower' | 'historyPushUpper'
>;

/** The repeated-reference guard (repeat-guard.ts). */
export interface RepeatGuardConfig {
  /** Parsed questions per task remembered; 0 turns the guard off. */
  readonly window: number;
  /** A reference already held by this many remembered questions marks the next one bad_repeat. */
  readonly limit: number;
}

/** The repeat guard's options from the algorithm config. */
export function repeatGuardConfig(cfg: AlgorithmConfig): RepeatGuardConfig {
  return { window: cfg.repeatWindow, limit: cfg.repeatLimit };
}

/**
 * The history memory's capacity: at least 1, so `memoryCapacity: 0` (accepted since the first
 * config) keeps the single most recent entry as it always has.
 */
export function historyCapacity(cfg: AlgorithmConfig): number {
  return Math.max(1, cfg.memoryCapacity);
}
