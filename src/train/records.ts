/**
 * What a training step hands back to the trainer — its metrics line and its rollout records
 * (`rollouts/step-NNNNNN.jsonl`, one JSON object a sample) — typed once for self-play (step.ts)
 * and the static-RLVR control (rlvr.ts), with the metric assembly both share.
 */
import type { QuestionLabel } from '../spell/labels.ts';
import type { McLetter } from '../spell/prompts/index.ts';
import type { QuestionerParse } from '../spell/questioner-parse.ts';
import type { TrainItem } from '../spell/train-items.ts';
import type { Task } from '../spell/task.ts';
import type { Vote } from '../spell/verifier.ts';
import type { StopReason } from '../engine/types.ts';
import type { TrainedSample } from './metrics.ts';
import type { Generation } from './policy.ts';

/** One questioner sample of a self-play step. */
export interface QuestionerRolloutRecord {
  readonly step: number;
  readonly role: 'questioner';
  readonly uid: string;
  readonly task: Task;
  readonly cluster_id: string;
  readonly documents: readonly number[];
  readonly from_cache: boolean;
  readonly target_letter: McLetter | null;
  readonly prompt_tokens: number;
  readonly text: string;
  readonly parse: QuestionerParse;
  readonly label: QuestionLabel;
  readonly grounding: { readonly text: string; readonly score: number } | null;
  readonly pass_rate: number | null;
  readonly reward: number | null;
  readonly advantage: number | null;
  readonly trained: boolean;
}

/** One responder answer of a self-play step. */
export interface ResponderRolloutRecord {
  readonly step: number;
  readonly role: 'responder';
  readonly uid: string;
  readonly task: Task;
  readonly index: number;
  readonly prompt_tokens: number;
  readonly text: string;
  readonly stop_reason: StopReason;
  readonly pred: string | null;
  readonly gt: string | null;
  readonly rule_score: number;
  readonly majority: Vote | null;
  readonly reward: number;
  readonly advantage: number | null;
  readonly trained: boolean;
}

/** One verifier vote of a self-play step. */
export interface VerifierRolloutRecord {
  readonly step: number;
  readonly role: 'verifier';
  readonly uid: string;
  readonly question_uid: string;
  readonly responder_index: number;
  readonly task: Task;
  readonly text: string;
  readonly vote: Vote;
  readonly majority: Vote;
  readonly agreement: number | null;
  readonly selected: boolean;
  readonly reward: number;
  readonly advantage: number | null;
  readonly trained: boolean;
}

/** One responder answer of a static-RLVR step (a labeled question; every answer is trained). */
export interface LabeledResponderRolloutRecord {
  readonly step: number;
  readonly role: 'responder';
  readonly uid: string;
  readonly task: Task;
  readonly index: number;
  readonly text: string;
  readonly stop_reason: StopReason;
  readonly answer: string;
  readonly reward: number;
  readonly advantage: number;
  readonly trained: true;
}

export type RolloutRecord =
  | QuestionerRolloutRecord
  | ResponderRolloutRecord
  | VerifierRolloutRecord
  | LabeledResponderRolloutRecord;

/** What one step returns to the trainer. */
export interface StepOutcome {
  readonly metrics: Record<string, number>;
  readonly rollouts: RolloutRecord[];
}

/** A trained sequence: its prompt and the sampled generation. */
export interface TrainPayload {
  readonly promptIds: readonly number[];
  readonly gen: Generation;
}

/** The metrics view of a trained item (metrics.ts `batchMetrics`). */
export function trainedSample(item: TrainItem<TrainPayload>): TrainedSample {
  return {
    role: item.role,
    task: item.task,
    reward: item.reward,
    advantage: item.advantage,
    responseLength: item.payload.gen.tokens.length,
    promptLength: item.payload.promptIds.length,
    clipped: item.payload.gen.stopReason === 'length',
  };
}

/** The update's trajectory of a trained item (datums.ts). */
export function trajectoryOf(item: TrainItem<TrainPayload>): {
  promptIds: readonly number[];
  tokens: readonly number[];
  logprobs: readonly number[];
  advantage: number;
} {
  return {
    promptIds: item.payload.promptIds,
    tokens: item.payload.gen.tokens,
    logprobs: item.payload.gen.logprobs,
    advantage: item.advantage,
  };
}

/**
 * Responder pass rate per task (tasks in first-seen order) and over all groups: the mean of the
 * groups' pass rates, under the names self-play and the RLVR control share.
 */
export function passRateMetrics(
  groups: readonly { readonly task: Task; readonly passRate: number }[],
): Record<string, number> {
  const out: Record<string, number> = {};
  const byTask = new Map<Task, number[]>();
  for (const g of groups) byTask.set(g.task, [...(byTask.get(g.task) ?? []), g.passRate]);
  for (const [task, prs] of byTask) out[`responder/task/${task}/pass_rate`] = mean(prs);
  if (groups.length > 0) out['responder/pass_rate'] = mean(groups.map((g) => g.passRate));
  return out;
}

function mean(xs: readonly number[]): number {
  return xs.reduce((a, b) => a + b, 0) / xs.length;
}
