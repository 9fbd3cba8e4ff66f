/**
 * Final batch assembly for one update (spell-algorithm.md §1.5). Generic over the item types so
 * train/ can pass its own rollout records; this file only decides WHICH items are trained on:
 * - responder: the first `targetGroups` accumulated groups (groups stay whole);
 * - questioner good: the samples whose question's responder group was kept;
 * - questioner bad: stratified by task from the bad-case pool (see `sampleBadCases`);
 * - verifier: int(kept responder trajectories × update ratio / votes) groups drawn from the buffer,
 *   or none when the buffer is short.
 *
 * Every shortfall is counted in `stats`, never thrown: the step still runs (decision 2).
 */

import type { Rng } from '../core/rng.ts';
import type { BadCaseLabel } from './rewards.ts';
import type { Task } from './task.ts';

/** A group of samples sharing one uid (G responder rollouts of a question, or G votes). */
export interface SampleGroup<T> {
  readonly uid: string;
  readonly items: readonly T[];
}

/** One questioner sample of this step; `badLabel` is set when it was marked a bad case. */
export interface QuestionerCandidate<Q> {
  readonly uid: string;
  readonly task: Task;
  readonly badLabel?: BadCaseLabel;
  readonly item: Q;
}

export interface BatchAssemblyInput<R, Q, V> {
  /** Kept responder groups in accumulation order; uid = the questioner sample's uid. */
  readonly responderGroups: readonly SampleGroup<R>[];
  /** Responder groups wanted per update (128 in the paper). */
  readonly targetGroups: number;
  /** Every questioner sample accumulated this step. */
  readonly questioners: readonly QuestionerCandidate<Q>[];
  /** The step's verifier buffer (groups that passed selection). */
  readonly verifierBuffer: readonly SampleGroup<V>[];
  /**
   * Verifier trajectories per responder trajectory kept (0 = the verifier is not trained). The
   * target follows the responder samples actually kept, so a short step asks for fewer groups.
   */
  readonly verifierUpdateRatio: number;
  /** Votes per verifier group (G of the verifier). */
  readonly verifierVotes: number;
  /** Bad questioner samples per good one, per task. */
  readonly badCaseRatio: number;
  /** Bad and verifier lists are cut to a multiple of this. */
  readonly worldSize: number;
  /** Stream for bad-case sampling. */
  readonly badCaseRng: Rng;
  /** Stream for verifier-group sampling. */
  readonly verifierRng: Rng;
}

/** A bad questioner sample with the label it is trained under. */
export interface BadSample<Q> {
  readonly uid: string;
  readonly task: Task;
  readonly label: BadCaseLabel;
  readonly item: Q;
}

export interface BatchAssemblyStats {
  readonly responderGroupsKept: number;
  /** Accumulated groups beyond the target, thrown away. */
  readonly responderGroupsDropped: number;
  /** Responder groups missing to reach the target (0 when filled). */
  readonly responderGroupsShort: number;
  readonly questionerGood: number;
  /** Σ over tasks of int(ratio × good count of the task). */
  readonly badRequested: number;
  /** Requested bad samples no task could supply (dropped after the last task). */
  readonly badShortfall: number;
  /** Bad samples removed to reach a multiple of the world size. */
  readonly badCutForWorldSize: number;
  readonly verifierGroupsAvailable: number;
  readonly verifierGroupsRequested: number;
  /** True when the buffer held fewer groups than requested, so the verifier is not trained. */
  readonly verifierSkipped: boolean;
  /** Verifier trajectories removed to reach a multiple of the world size. */
  readonly verifierCutForWorldSize: number;
}

export interface AssembledBatch<R, Q, V> {
  readonly responder: readonly SampleGroup<R>[];
  readonly questionerGood: readonly QuestionerCandidate<Q>[];
  readonly questionerBad: readonly BadSample<Q>[];
  /** Verifier votes, flattened in group order, each with its group uid. */
  readonly verifier: readonly { readonly uid: string; readonly item: V }[];
  readonly stats: BatchAssemblyStats;
}

/**
 * Verifier groups per update: int(responder trajectories × update ratio / votes per group)
 * (paper: int(1024 × 0.125 / 8) = 16).
 */
export function verifierGroupTarget(
  responderTrajectories: number,
  updateRatio: number,
  votesPerGroup: number,
): number {
  if (votesPerGroup <= 0)
    throw new RangeError(`votes per group must be positive, got ${votesPerGroup}`);
  return Math.floor((responderTrajectories * updateRatio) / votesPerGroup);
}

function floorToMultiple(n: number, m: number): number {
  return m <= 1 ? n : n - (n % m);
}

/**
 * Stratified bad-case sampling, as the reference does it: only tasks with good samples are
 * visited, most good samples first (ties in the order the tasks first appear among the good
 * samples, like Python's Counter.most_common); each gives int(ratio × good) samples plus the
 * shortfall carried from the previous task, drawn without replacement. A task without good
 * samples contributes no bad ones. What the last task cannot supply is dropped and returned as
 * `shortfall`.
 */
export function sampleBadCases<Q>(
  good: readonly QuestionerCandidate<Q>[],
  pool: readonly BadSample<Q>[],
  ratio: number,
  rng: Rng,
): { picked: BadSample<Q>[]; requested: number; shortfall: number } {
  // A Map iterates in insertion order: tasks in the order they first appear among the good.
  const goodCount = new Map<Task, number>();
  for (const g of good) goodCount.set(g.task, (goodCount.get(g.task) ?? 0) + 1);
  const order = [...goodCount.keys()];
  // Array.prototype.sort is stable, so equal counts keep first-seen order.
  order.sort((a, b) => (goodCount.get(b) ?? 0) - (goodCount.get(a) ?? 0));
  const picked: BadSample<Q>[] = [];
  let requested = 0;
  let carry = 0;
  for (const task of order) {
    const own = Math.floor(ratio * (goodCount.get(task) ?? 0));
    requested += own;
    const candidates = pool.filter((b) => b.task === task);
    const want = own + carry;
    const take = Math.min(want, candidates.length);
    picked.push(...rng.sample(candidates, take));
    carry = want - take;
  }
  return { picked, requested, shortfall: carry };
}

/**
 * Assemble the single update batch of a training step. Deterministic for given inputs and RNG
 * states. A questioner sample carrying a bad label is never counted as good, even if a
 * responder group with its uid was (wrongly) supplied.
 */
export function assembleBatch<R, Q, V>(
  input: BatchAssemblyInput<R, Q, V>,
): AssembledBatch<R, Q, V> {
  const { worldSize } = input;
  if (!Number.isInteger(worldSize) || worldSize < 1) {
    throw new RangeError(`world size must be a positive integer, got ${worldSize}`);
  }
  const responder = input.responderGroups.slice(0, Math.max(0, input.targetGroups));
  const keptUids = new Set(responder.map((g) => g.uid));

  const questionerGood = input.questioners.filter(
    (q) => q.badLabel === undefined && keptUids.has(q.uid),
  );
  const pool: BadSample<Q>[] = [];
  for (const q of input.questioners) {
    if (q.badLabel !== undefined) {
      pool.push({ uid: q.uid, task: q.task, label: q.badLabel, item: q.item });
    }
  }
  const bad = sampleBadCases(questionerGood, pool, input.badCaseRatio, input.badCaseRng);
  const badKept = floorToMultiple(bad.picked.length, worldSize);
  const questionerBad = bad.picked.slice(0, badKept);

  const available = input.verifierBuffer.length;
  const keptTrajectories = responder.reduce((n, g) => n + g.items.length, 0);
  const requested =
    input.verifierUpdateRatio > 0
      ? verifierGroupTarget(keptTrajectories, input.verifierUpdateRatio, input.verifierVotes)
      : 0;
  const verifierSkipped = requested === 0 || available < requested;
  const drawn = verifierSkipped ? [] : input.verifierRng.sample(input.verifierBuffer, requested);
  const votes = drawn.flatMap((g) => g.items.map((item) => ({ uid: g.uid, item })));
  const votesKept = floorToMultiple(votes.length, worldSize);

  return {
    responder,
    questionerGood,
    questionerBad,
    verifier: votes.slice(0, votesKept),
    stats: {
      responderGroupsKept: responder.length,
      responderGroupsDropped: input.responderGroups.length - responder.length,
      responderGroupsShort: Math.max(0, input.targetGroups - responder.length),
      questionerGood: questionerGood.length,
      badRequested: bad.requested,
      badShortfall: bad.shortfall,
      badCutForWorldSize: bad.picked.length - badKept,
      verifierGroupsAvailable: available,
      verifierGroupsRequested: requested,
      verifierSkipped,
      verifierCutForWorldSize: votes.length - votesKept,
    },
  };
}
