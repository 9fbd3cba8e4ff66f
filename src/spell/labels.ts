/**
 * The words for SPELL's roles, shared by training, `spell generate`, metrics and records.
 *
 * Three roles are trained (questioner, responder, verifier); the grounding filter is a fourth
 * kind of call (the responder's policy answering with no documents) that is sampled but never
 * trained, so it appears where calls are counted (token usage) and not where samples are trained.
 */

/** A role whose samples can be trained on. */
export type TrainedRole = 'questioner' | 'responder' | 'verifier';

/** Every kind of call the algorithm makes to the policy. */
export type Role = TrainedRole | 'grounding';

export const TRAINED_ROLES: readonly TrainedRole[] = ['questioner', 'responder', 'verifier'];

/** Every role, in the order a question's calls happen. */
export const ROLES: readonly Role[] = ['questioner', 'grounding', 'responder', 'verifier'];

/**
 * Why a question did (not) reach the responders and training: one set of words for training's
 * rollout records and metrics, `spell generate`'s records and summaries, and the reports.
 */
export type QuestionLabel =
  /** Parsed, grounded and answered with a spread of outcomes (training) or kept (generate). */
  | 'good'
  /** The questioner's reply had no valid JSON question (missing keys, wrong types, bad MC letter). */
  | 'bad_format'
  /** The answer was unusable (docmath answer not a non-zero number, QA answer too long). */
  | 'invalid_answer'
  /** A `<think>` block was never closed (cut off by the token cap). */
  | 'unfinished_think'
  /** The reference repeats the task's recent references (repeat guard). */
  | 'bad_repeat'
  /** Too similar to an earlier question on the same cluster (`spell generate`). */
  | 'near_duplicate'
  /** Answered correctly with no documents (grounding filter). */
  | 'bad_ground'
  /** The questioner or responder prompt is over the prompt-token cap. */
  | 'overlong_prompt'
  /** Every responder answer scored alike (training's dynamic sampling drops it). */
  | 'zero_variance';

/** The questioner labels paid as bad cases (rewards.ts `BadCaseLabel`). */
export const BAD_CASE_LABELS = ['bad_format', 'bad_ground', 'bad_repeat', 'zero_variance'] as const;
