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
