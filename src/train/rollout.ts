/**
 * One gen batch of self-play (steps A–E of spell-algorithm.md §1.2): questioner → parse →
 * grounding filter → responder (G samples) → rule checks → verifier (V votes) → dynamic sampling
 * with history pushes. Every engine call of a phase is issued together. Every outcome the algorithm
 * labels (bad_format, bad_ground, zero_variance, dropped over-long, invalid votes, ...) is recorded on
 * the samples and counted, never silently lost.
 *
 * This is orchestration (async, talks to the policy); every decision it applies comes from the pure
 * functions of `src/spell/`. The phases themselves are in rollout-phases.ts; this file holds the
 * types they share and runs them in order.
 */
import type { Cluster } from '../data/cluster.ts';
import type { Rng } from '../core/rng.ts';
import type { Task } from '../spell/task.ts';
import type { McLetter } from '../spell/prompts/index.ts';
import type { QuestionerParse } from '../spell/questioner-parse.ts';
import type { Vote } from '../spell/verifier.ts';
import type { HistoryMemory } from '../spell/history.ts';
import type { RepeatGuard } from '../spell/repeat-guard.ts';
import type { AlgorithmConfig } from '../spell/config.ts';
import type { QuestionLabel } from '../spell/labels.ts';
import type { Generation, RolePolicy } from './policy.ts';
import type { TrainConfig } from './config.ts';
import type { Counters } from './counters.ts';
import {
  checkAnswers,
  filterGrounded,
  parseQuestioners,
  rejectRepeats,
  runVerifier,
  sampleQuestioners,
  sampleResponders,
  settleGroups,
  type ClusterDraw,
} from './rollout-phases.ts';

/** Why a questioner sample did (not) reach training (spell/labels.ts). */
export type QuestionerLabel = QuestionLabel;

export interface QuestionerSample {
  readonly uid: string;
  readonly task: Task;
  readonly clusterId: string;
  readonly documentIndices: readonly number[];
  readonly fromCache: boolean;
  readonly targetLetter?: McLetter;
  readonly promptIds: readonly number[];
  readonly gen: Generation;
  readonly parse: QuestionerParse;
  label: QuestionerLabel;
  /** The grounding filter's no-document answer and its rule score, when it ran. */
  grounding?: { readonly text: string; readonly score: number };
  passRate?: number;
}

export interface ResponderSample {
  readonly questionUid: string;
  readonly index: number;
  readonly gen: Generation;
  readonly ruleScore: number;
  readonly pred: string | null;
  readonly gt: string | null;
  /** The verifier majority (undefined when the answer was not judged). */
  majority?: Vote;
  reward: number;
}

export interface VerifierGroup {
  readonly uid: string;
  readonly questionUid: string;
  readonly task: Task;
  readonly responderIndex: number;
  readonly promptIds: readonly number[];
  readonly gens: readonly Generation[];
  readonly votes: readonly Vote[];
  readonly majority: Vote;
  readonly rewards: readonly number[];
  readonly agreement: number | undefined;
  /** Passed the consistency filter and may be trained on. */
  readonly selected: boolean;
}

export interface ResponderGroup {
  readonly uid: string;
  readonly task: Task;
  readonly promptIds: readonly number[];
  readonly samples: readonly ResponderSample[];
  readonly passRate: number;
  /** Context documents the questioner saw (the curriculum made visible). */
  readonly questionerDocuments: number;
  readonly clusterDocuments: number;
}

export interface GenBatchResult {
  readonly questioners: QuestionerSample[];
  /** Groups with spread (kept by dynamic sampling), in gen-batch order. */
  readonly keptGroups: ResponderGroup[];
  /** All groups that reached the responder, kept or not (for logging). */
  readonly allGroups: ResponderGroup[];
  readonly verifierGroups: VerifierGroup[];
}

export interface RolloutContext {
  readonly policy: RolePolicy;
  readonly cfg: TrainConfig;
  readonly algo: AlgorithmConfig;
  readonly memory: HistoryMemory;
  /** The repeated-reference guard; a disabled one passes every question. */
  readonly references: RepeatGuard;
  readonly docRng: Rng;
  readonly letterRng: Rng;
  /** Next engine seed; advanced deterministically as requests are planned. */
  nextSeed: () => number;
  readonly counters: Counters;
  /** Called at each phase change (progress display). */
  readonly onPhase?: (phase: string) => void;
}

/** Run one gen batch over the drawn clusters: the phases A–E of rollout-phases.ts, in order. */
export async function runGenBatch(
  ctx: RolloutContext,
  draws: readonly ClusterDraw[],
  uidPrefix: string,
): Promise<GenBatchResult> {
  const clusterById = new Map<string, Cluster>();
  for (const d of draws) clusterById.set(d.cluster.id, d.cluster);

  const replies = await sampleQuestioners(ctx, draws, uidPrefix);
  const questioners = parseQuestioners(ctx, replies);
  const parsed = questioners.filter((q) => q.parse.kind === 'ok');
  const grounded = await filterGrounded(ctx, rejectRepeats(ctx, parsed));
  const answered = checkAnswers(ctx, await sampleResponders(ctx, grounded, clusterById));
  const verifierGroups = await runVerifier(ctx, answered);
  const { allGroups, keptGroups } = settleGroups(ctx, answered);
  return { questioners, keptGroups, allGroups, verifierGroups };
}
