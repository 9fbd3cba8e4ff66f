/**
 * One gen batch of self-play (steps A–E of spell-algorithm.md §1.2): questioner → parse →
 * grounding filter → responder (G samples) → rule checks → verifier (V votes) → dynamic sampling
 * with history pushes. Every engine call of a phase is issued together. Every outcome the algorithm
 * labels (bad_format, bad_ground, zero_variance, dropped over-long, invalid votes, ...) is recorded on
 * the samples and counted, never silently lost.
 *
 * This is orchestration (async, talks to the policy); every decision it applies comes from the pure
 * functions of `src/spell/`.
 */
import type { Cluster } from '../data/cluster.ts';
import type { Rng } from '../core/rng.ts';
import type { Task } from '../spell/task.ts';
import { drawTargetLetter, groundingPrompt, type McLetter } from '../spell/prompts/index.ts';
import type { QuestionerParse } from '../spell/questioner-parse.ts';
import type { Vote } from '../spell/verifier.ts';
import type { HistoryMemory } from '../spell/history.ts';
import type { RepeatGuard } from '../spell/repeat-guard.ts';
import type { AlgorithmConfig } from '../spell/config.ts';
import type { QuestionLabel } from '../spell/labels.ts';
import {
  checkAnswer,
  groundingVerdict,
  judgeReplies,
  parseLabel,
  parseQuestion,
  questionerPromptFor,
  responderPromptFor,
  settleQuestion,
  verifierPromptFor,
  type ParsedQuestion,
} from '../spell/question-flow.ts';
import type { Generation, RolePolicy } from './policy.ts';
import type { TrainConfig } from './config.ts';
import type { Counters } from './counters.ts';

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

/** Run one gen batch over the drawn clusters. */
export async function runGenBatch(
  ctx: RolloutContext,
  draws: readonly { readonly task: Task; readonly cluster: Cluster }[],
  uidPrefix: string,
): Promise<GenBatchResult> {
  const { policy, cfg, algo, counters } = ctx;
  const clusterById = new Map<string, Cluster>();
  for (const d of draws) clusterById.set(d.cluster.id, d.cluster);

  // A. Questioner prompts (history union + k new documents; examples from memory).
  ctx.onPhase?.('questioner');
  const plans = draws.map((d, i) => {
    const plan = ctx.memory.planDraw(
      d.task,
      d.cluster.id,
      d.cluster.documents.length,
      cfg.data.docsPerQuestion,
      ctx.docRng,
    );
    const targetLetter = d.task === 'mc' ? drawTargetLetter(ctx.letterRng) : undefined;
    const { documents, text } = questionerPromptFor(
      d.task,
      d.cluster.documents,
      plan,
      targetLetter,
    );
    const promptIds = policy.render(text);
    if (promptIds.length > cfg.rollout.maxPromptTokens) {
      // The reference raises here; we refuse the cluster loudly but keep the run alive.
      counters.add('questioner/overlong_prompt');
    }
    return { d, plan, documents, targetLetter, promptIds, uid: `${uidPrefix}-q${i}` };
  });
  const usable = plans.filter((p) => p.promptIds.length <= cfg.rollout.maxPromptTokens);
  const qGens = await policy.sampleAll(
    usable.map((p) => p.promptIds),
    1,
    usable.map(() => ctx.nextSeed()),
  );

  // B. Parse.
  const questioners: QuestionerSample[] = usable.map((p, i) => {
    const gen = qGens[i][0];
    const parse = parseQuestion(p.d.task, gen.text, algo, {
      documents: p.documents,
      ...(p.targetLetter !== undefined ? { targetLetter: p.targetLetter } : {}),
      countTokens: (t) => policy.countTokens(t),
    });
    const label = parseLabel(parse);
    counters.add(`questioner/parse/${parse.kind}`);
    counters.add(`questioner/task/${p.d.task}/parse/${parse.kind}`);
    if (parse.kind === 'ok' && parse.swappedFrom !== undefined) {
      counters.add('questioner/mc_letter_swapped');
    }
    return {
      uid: p.uid,
      task: p.d.task,
      clusterId: p.d.cluster.id,
      documentIndices: p.plan.documentIndices,
      fromCache: p.plan.fromCache,
      ...(p.targetLetter !== undefined ? { targetLetter: p.targetLetter } : {}),
      promptIds: p.promptIds,
      gen,
      parse,
      label,
    };
  });
  let parsed = questioners.filter((q) => q.parse.kind === 'ok');

  // B'. Repeated references (before the grounding filter, which they would only waste samples on).
  if (ctx.references.enabled) {
    for (const q of parsed) {
      if (ctx.references.observe(q.task, okParse(q).referenceAnswer)) {
        q.label = 'bad_repeat';
        counters.add('questioner/bad_repeat');
        counters.add(`questioner/task/${q.task}/bad_repeat`);
      }
    }
    parsed = parsed.filter((q) => q.label === 'good');
  }

  // B''. Grounding filter: answer with no documents; a rule-correct answer marks bad_ground.
  if (algo.groundingFilter && parsed.length > 0) {
    ctx.onPhase?.('grounding');
    const gPrompts = parsed.map((q) =>
      policy.render(groundingPrompt({ task: q.task, question: okParse(q).responderQuestion })),
    );
    const gGens = await policy.sampleAll(
      gPrompts,
      1,
      gPrompts.map(() => ctx.nextSeed()),
    );
    parsed.forEach((q, i) => {
      const text = gGens[i][0].text;
      const { score, badGround } = groundingVerdict(q.task, text, okParse(q), algo);
      q.grounding = { text, score };
      if (badGround) {
        q.label = 'bad_ground';
        counters.add('questioner/bad_ground');
      }
    });
    parsed = parsed.filter((q) => q.label === 'good');
  }

  // C. Responder: all documents of the cluster, G samples each; over-long prompts are dropped.
  ctx.onPhase?.('responder');
  const rPlans: { q: QuestionerSample; promptIds: number[]; cluster: Cluster }[] = [];
  for (const q of parsed) {
    const cluster = clusterById.get(q.clusterId) as Cluster;
    const promptIds = policy.render(
      responderPromptFor(q.task, cluster.documents, okParse(q).responderQuestion),
    );
    if (promptIds.length > cfg.rollout.maxPromptTokens) {
      q.label = 'overlong_prompt';
      counters.add('responder/dropped_overlong');
      continue;
    }
    rPlans.push({ q, promptIds, cluster });
  }
  const G = cfg.rollout.groupSize;
  const rGens = await policy.sampleAll(
    rPlans.map((r) => r.promptIds),
    G,
    rPlans.map(() => ctx.nextSeed()),
  );

  // D. Rule checks on every answer.
  const groupsSamples: ResponderSample[][] = rPlans.map((r, gi) =>
    rGens[gi].map((gen, index) => {
      const rule = checkAnswer(r.q.task, gen.text, okParse(r.q), algo, gen.stopReason === 'length');
      return {
        questionUid: r.q.uid,
        index,
        gen,
        ruleScore: rule.score,
        pred: rule.pred,
        gt: rule.gt,
        reward: rule.score,
      };
    }),
  );

  for (const samples of groupsSamples) {
    for (const s of samples) {
      counters.add('responder/answers');
      if (s.ruleScore >= 1) counters.add('responder/rule_correct');
    }
  }

  // D'. Verifier: V votes on every answer with both an extracted prediction and reference.
  const verifierGroups: VerifierGroup[] = [];
  if (algo.verifier.enable) {
    ctx.onPhase?.('verifier');
    const judged: { gi: number; s: ResponderSample; promptIds: number[] }[] = [];
    groupsSamples.forEach((samples, gi) => {
      const q = rPlans[gi].q;
      for (const s of samples) {
        const text = verifierPromptFor(okParse(q), s);
        if (text === undefined) {
          counters.add('verifier/not_judged');
          continue;
        }
        judged.push({ gi, s, promptIds: policy.render(text) });
      }
    });
    const V = cfg.rollout.verifierVotes;
    const vGens = await policy.sampleAll(
      judged.map((j) => j.promptIds),
      V,
      judged.map(() => ctx.nextSeed()),
    );
    judged.forEach((j, ji) => {
      const gens = vGens[ji];
      const { votes, majority, reward, voteRewards, agreement, selected } = judgeReplies(
        j.s.ruleScore,
        gens.map((g) => g.text),
        algo,
      );
      const invalid = votes.filter((v) => v === -1).length;
      counters.add('verifier/votes', votes.length);
      counters.add('verifier/invalid_votes', invalid);
      j.s.majority = majority;
      j.s.reward = reward;
      if (majority !== -1) {
        counters.add('verifier/judged');
        if (majority !== j.s.ruleScore) counters.add('verifier/disagree_with_rule');
        // A YES on an answer the rule check rejects is what max() pays as reward; a NO on one it
        // accepts is harmless to the responder under max() but is still a verifier error.
        if (majority === 1 && j.s.ruleScore < 1) counters.add('verifier/false_yes');
        if (majority === 0 && j.s.ruleScore >= 1) counters.add('verifier/false_no');
      } else {
        counters.add('verifier/no_majority');
      }
      if (selected) counters.add('verifier/groups_selected');
      const q = rPlans[j.gi].q;
      verifierGroups.push({
        uid: `${q.uid}-r${j.s.index}-v`,
        questionUid: q.uid,
        task: q.task,
        responderIndex: j.s.index,
        promptIds: j.promptIds,
        gens,
        votes,
        majority,
        rewards: voteRewards,
        agreement,
        selected,
      });
    });
  }

  // E. Dynamic sampling + history memory.
  const allGroups: ResponderGroup[] = [];
  const keptGroups: ResponderGroup[] = [];
  groupsSamples.forEach((samples, gi) => {
    const r = rPlans[gi];
    const settled = settleQuestion(
      samples.map((s) => s.reward),
      algo,
    );
    const p = settled.passRate;
    r.q.passRate = p;
    if (settled.pushToHistory) {
      const outcome = ctx.memory.push(r.q.task, r.q.clusterId, {
        evidence: r.q.documentIndices,
        question: okParse(r.q).responderQuestion,
        answer: okParse(r.q).referenceAnswer,
      });
      counters.add(`history/${outcome}`);
    }
    const group: ResponderGroup = {
      uid: r.q.uid,
      task: r.q.task,
      promptIds: r.promptIds,
      samples,
      passRate: p,
      questionerDocuments: r.q.documentIndices.length,
      clusterDocuments: r.cluster.documents.length,
    };
    allGroups.push(group);
    if (settled.zeroVariance) {
      r.q.label = 'zero_variance';
      counters.add('responder/zero_variance');
    } else {
      keptGroups.push(group);
    }
  });
  return { questioners, keptGroups, allGroups, verifierGroups };
}

function okParse(q: QuestionerSample): ParsedQuestion {
  if (q.parse.kind !== 'ok') throw new Error(`questioner sample ${q.uid} has no parsed question`);
  return q.parse;
}
