/**
 * The items of one update with their rewards and advantages (spell-algorithm.md §6–7): the
 * assembled batch's responder answers keep their reward, questioner samples are paid by their pass
 * rate or bad-case label, verifier votes keep their self-consistency reward; then GRPO z-scores —
 * responder per question, verifier per judged answer, questioner per task or over the batch.
 * Pure: the caller carries whatever it needs to train on an item in `payload`.
 */
import { questionerAdvantages, responderAdvantages, verifierAdvantages } from './advantages.ts';
import type { AlgorithmConfig, QuestionerRewardConfig } from './config.ts';
import type { TrainedRole } from './labels.ts';
import { questionerReward, type BadCaseLabel } from './rewards.ts';
import type { Task } from './task.ts';

/** A rewarded sample of the batch; `uid` groups it for the z-score (question or judged answer). */
interface Entry<P> {
  readonly uid: string;
  readonly task: Task;
  readonly payload: P;
}

export interface BatchEntries<P> {
  /** Responder answers of the kept groups, group by group; `reward` is the answer's final reward. */
  readonly responder: readonly (Entry<P> & { readonly reward: number })[];
  /** Questioner samples whose group was kept, with that group's pass rate. */
  readonly questionerGood: readonly (Entry<P> & { readonly passRate: number })[];
  /** Bad questioner samples drawn for the batch, with their label. */
  readonly questionerBad: readonly (Entry<P> & { readonly label: BadCaseLabel })[];
  /** Verifier votes of the drawn groups, group by group, with their self-consistency reward. */
  readonly verifier: readonly (Entry<P> & { readonly reward: number })[];
}

export interface TrainItem<P> {
  readonly role: TrainedRole;
  readonly task: Task;
  readonly uid: string;
  readonly reward: number;
  readonly advantage: number;
  readonly payload: P;
}

/**
 * Reward and advantage of every item, in the order responder, questioner (good, then bad),
 * verifier — the order of the update's datums.
 */
export function computeTrainItems<P>(
  batch: BatchEntries<P>,
  algo: QuestionerRewardConfig &
    Pick<AlgorithmConfig, 'questionerNormalization' | 'advantageEpsilon'>,
): TrainItem<P>[] {
  const eps = algo.advantageEpsilon;
  const responder = batch.responder;
  const questioner = [
    ...batch.questionerGood.map((e) => ({
      uid: e.uid,
      task: e.task,
      payload: e.payload,
      reward: questionerReward({ kind: 'good', passRate: e.passRate }, algo),
    })),
    ...batch.questionerBad.map((e) => ({
      uid: e.uid,
      task: e.task,
      payload: e.payload,
      reward: questionerReward({ kind: e.label }, algo),
    })),
  ];
  const verifier = batch.verifier;
  const rAdv = responderAdvantages(
    responder.map((e) => e.reward),
    responder.map((e) => e.uid),
    eps,
  );
  const vAdv = verifierAdvantages(
    verifier.map((e) => e.reward),
    verifier.map((e) => e.uid),
    eps,
  );
  const qAdv = questionerAdvantages(
    questioner.map((e) => e.reward),
    questioner.map((e) => e.task),
    algo.questionerNormalization,
    eps,
  );
  const item = (role: TrainedRole, e: Entry<P> & { reward: number }, advantage: number) => ({
    role,
    task: e.task,
    uid: e.uid,
    reward: e.reward,
    advantage,
    payload: e.payload,
  });
  return [
    ...responder.map((e, i) => item('responder', e, rAdv[i])),
    ...questioner.map((e, i) => item('questioner', e, qAdv[i])),
    ...verifier.map((e, i) => item('verifier', e, vAdv[i])),
  ];
}
