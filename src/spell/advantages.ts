/**
 * GRPO advantages per role (spell-algorithm.md §7.1): each sample's reward z-scored within its
 * group, A = (r − mean) / (std + ε) with the unbiased (N − 1) standard deviation.
 *
 * Groups: responder = the question (its G rollouts); verifier = the judged answer (its G votes);
 * questioner = each task over the final batch (`per-task`, code) or the whole batch (`batch`,
 * paper). A group of one sample has no defined spread and gets advantage 0 (decision 2), so a
 * lone sample never pushes the policy on noise.
 */

import type { QuestionerNormScope } from './config.ts';
import type { Task } from './task.ts';

/**
 * z-score `rewards_N` within the groups named by `groupKeys_N` (parallel arrays).
 * @throws RangeError when the arrays differ in length.
 * @example groupAdvantages([1, 0, 0, 1], ['q', 'q', 'q', 'q'], 1e-6) // ≈ [0.866, −0.866, …]
 */
export function groupAdvantages(
  rewards_N: readonly number[],
  groupKeys_N: readonly string[],
  epsilon: number,
): number[] {
  if (rewards_N.length !== groupKeys_N.length) {
    throw new RangeError(
      `advantages need one group key per reward: ${rewards_N.length} rewards, ${groupKeys_N.length} keys`,
    );
  }
  const members = new Map<string, number[]>();
  groupKeys_N.forEach((key, i) => {
    const list = members.get(key);
    if (list) list.push(i);
    else members.set(key, [i]);
  });
  const out = new Array<number>(rewards_N.length).fill(0);
  for (const idx of members.values()) {
    if (idx.length < 2) continue; // singleton: advantage stays 0
    const mean = idx.reduce((s, i) => s + rewards_N[i], 0) / idx.length;
    const variance = idx.reduce((s, i) => s + (rewards_N[i] - mean) ** 2, 0) / (idx.length - 1);
    const std = Math.sqrt(variance);
    for (const i of idx) out[i] = (rewards_N[i] - mean) / (std + epsilon);
  }
  return out;
}

/** Responder advantages: grouped by the question (questioner uid) each rollout answered. */
export function responderAdvantages(
  rewards_N: readonly number[],
  questionIds_N: readonly string[],
  epsilon: number,
): number[] {
  return groupAdvantages(rewards_N, questionIds_N, epsilon);
}

/** Verifier advantages: grouped by the judged responder answer each vote belongs to. */
export function verifierAdvantages(
  rewards_N: readonly number[],
  judgedAnswerIds_N: readonly string[],
  epsilon: number,
): number[] {
  return groupAdvantages(rewards_N, judgedAnswerIds_N, epsilon);
}

/** Questioner advantages over the final batch: per task (default) or over the whole batch. */
export function questionerAdvantages(
  rewards_N: readonly number[],
  tasks_N: readonly Task[],
  scope: QuestionerNormScope,
  epsilon: number,
): number[] {
  const keys = scope === 'per-task' ? tasks_N : tasks_N.map(() => 'all');
  return groupAdvantages(rewards_N, keys, epsilon);
}
