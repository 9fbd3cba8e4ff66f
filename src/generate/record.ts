/**
 * What `spell generate` records per question slot: one JSON line in the state file, written as
 * soon as the slot finishes. Every question is written, kept or not, with the documents it was
 * built from, the reference answer, the responder answers and verifier votes, and why it was
 * kept or rejected — the final dataset and the summary are both derived from these lines.
 */
import type { Task } from '../spell/task.ts';
import type { Vote } from '../spell/verifier.ts';

import { ROLES, type QuestionLabel, type Role } from '../spell/labels.ts';

/** The four chat calls of one question, for token accounting (spell/labels.ts). */
export { ROLES, type Role };

/**
 * Why a question did not make it into the dataset: the question labels training uses
 * (spell/labels.ts; `bad_format`, `bad_ground`, `overlong_prompt`, ...), then the keep policy's
 * verdicts on the pass rate.
 */
export type RejectReason =
  | Extract<
      QuestionLabel,
      | 'bad_format'
      | 'invalid_answer'
      | 'unfinished_think'
      | 'near_duplicate'
      | 'bad_ground'
      | 'overlong_prompt'
    >
  /** No responder answer was correct (p = 0) and the keep policy excludes it. */
  | 'none_correct'
  /** Every responder answer was correct (p = 1) and the keep policy excludes it. */
  | 'all_correct'
  /** 0 < p < 1 but outside the keep policy's interval. */
  | 'pass_rate_outside_keep';

export const REJECT_REASONS: readonly RejectReason[] = [
  'bad_format',
  'invalid_answer',
  'unfinished_think',
  'near_duplicate',
  'bad_ground',
  'overlong_prompt',
  'none_correct',
  'all_correct',
  'pass_rate_outside_keep',
];

/** Token usage of one role (as the server reported it). */
export interface RoleUsage {
  calls: number;
  promptTokens: number;
  completionTokens: number;
  /** Calls whose response carried no usage block. */
  unreported: number;
}

/** One responder answer with its checks. */
export interface ResponseRecord {
  readonly text: string;
  /** The answer span the rule check extracted (null: none found, so not judged). */
  readonly pred: string | null;
  readonly ruleScore: number;
  /** Verifier votes (1 YES, 0 NO, −1 unparseable); empty when not judged. */
  readonly votes: readonly Vote[];
  /** The majority vote; null when not judged. */
  readonly majority: Vote | null;
  /** max(rule, majority) — what counts towards the pass rate. */
  readonly reward: number;
}

/** One finished (or failed) question slot. */
export interface QuestionRecord {
  readonly type: 'question';
  readonly slot: number;
  readonly status: 'kept' | 'rejected' | 'error';
  readonly reason?: RejectReason;
  /** Human-readable detail: the parse problem, the duplicate match, the error message. */
  readonly detail?: string;
  readonly task: Task;
  readonly clusterId: string;
  readonly source: string;
  readonly clusterDocuments: number;
  /** Indices (within the cluster) of the documents the questioner saw. */
  readonly questionerDocuments: readonly number[];
  /** The other documents of the cluster: distractors in the responder's context. */
  readonly distractorDocuments: readonly number[];
  /** True when history entries shaped the questioner prompt. */
  readonly fromCache: boolean;
  readonly historyExamples: number;
  readonly targetLetter?: string;
  readonly questionerOutput?: string;
  /** The question as the questioner wrote it. */
  readonly question?: string;
  /** The question as the responder sees it (MC: with its choices). */
  readonly responderQuestion?: string;
  readonly referenceAnswer?: string;
  readonly grounding?: { readonly answer: string; readonly score: number };
  readonly duplicateOf?: { readonly slot: number; readonly similarity: number };
  readonly responses?: readonly ResponseRecord[];
  readonly passRate?: number;
  readonly usage: Readonly<Record<Role, RoleUsage>>;
  readonly elapsedMs: number;
}

/** A zeroed usage table. */
export function emptyUsage(): Record<Role, RoleUsage> {
  const u = {} as Record<Role, RoleUsage>;
  for (const r of ROLES) u[r] = { calls: 0, promptTokens: 0, completionTokens: 0, unreported: 0 };
  return u;
}

/**
 * The words state files written before the label vocabulary was shared used for three reasons;
 * `loadState` reads them as today's, so older runs resume and summarise unchanged.
 */
export const LEGACY_REJECT_REASONS: Readonly<Record<string, RejectReason>> = {
  format_error: 'bad_format',
  answerable_without_documents: 'bad_ground',
  prompt_too_long: 'overlong_prompt',
};
