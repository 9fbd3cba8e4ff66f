/**
 * The phases of one self-play gen batch (spell-algorithm.md §1.2 A–E), one function each, run in
 * order by `runGenBatch` (rollout.ts). Each phase issues its engine calls together and records its
 * outcomes on the samples and in the counters; the decisions come from spell/question-flow.ts.
 *
 * The order of the random draws (document and letter rngs in A, one engine seed per prompt in
 * every sampling phase) is part of a run's reproducibility: a phase draws them in gen-batch order
 * before it samples.
 */
import type { Cluster } from '../data/cluster.ts';
import type { Task } from '../spell/task.ts';
import type { QuestionerDraw } from '../spell/history.ts';
import { drawTargetLetter, groundingPrompt, type McLetter } from '../spell/prompts/index.ts';
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
  type Judgement,
  type ParsedQuestion,
} from '../spell/question-flow.ts';
import type { Counters } from './counters.ts';
import type { Generation } from './policy.ts';
import type {
  QuestionerSample,
  ResponderGroup,
  ResponderSample,
  RolloutContext,
  VerifierGroup,
} from './rollout.ts';

/** One drawn cluster of a gen batch. */
export interface ClusterDraw {
  readonly task: Task;
  readonly cluster: Cluster;
}

/** A. A questioner prompt that fit the prompt cap, with its one sampled reply. */
export interface QuestionerReply {
  readonly uid: string;
  readonly d: ClusterDraw;
  readonly plan: QuestionerDraw;
  /** The drawn documents, joined (what an in-document answer is checked against). */
  readonly documents: string;
  readonly targetLetter: McLetter | undefined;
  readonly promptIds: readonly number[];
  readonly gen: Generation;
}

/** C. A question whose responder prompt fit the prompt cap. */
export interface ResponderPlan {
  readonly q: QuestionerSample;
  readonly cluster: Cluster;
  readonly promptIds: readonly number[];
}

/** D. A question that reached the responder, with its G rule-checked answers. */
export interface AnsweredQuestion extends ResponderPlan {
  readonly samples: ResponderSample[];
}

/**
 * A. Questioner prompts (history union + k new documents; examples from memory), then one reply
 * per prompt that fits. An over-long prompt is counted and its cluster skipped.
 */
export async function sampleQuestioners(
  ctx: RolloutContext,
  draws: readonly ClusterDraw[],
  uidPrefix: string,
): Promise<QuestionerReply[]> {
  const { policy, cfg, counters } = ctx;
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
  const gens = await policy.sampleAll(
    usable.map((p) => p.promptIds),
    1,
    usable.map(() => ctx.nextSeed()),
  );
  return usable.map((p, i) => ({ ...p, gen: gens[i][0] }));
}

/** B. Parse every questioner reply and label it (`good` when it parsed). */
export function parseQuestioners(
  ctx: RolloutContext,
  replies: readonly QuestionerReply[],
): QuestionerSample[] {
  const { policy, algo, counters } = ctx;
  return replies.map((p) => {
    const parse = parseQuestion(p.d.task, p.gen.text, algo, {
      documents: p.documents,
      ...(p.targetLetter !== undefined ? { targetLetter: p.targetLetter } : {}),
      countTokens: (t) => policy.countTokens(t),
    });
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
      gen: p.gen,
      parse,
      label: parseLabel(parse),
    };
  });
}

/**
 * B'. Repeated references: label them `bad_repeat` and keep the rest. Runs before the grounding
 * filter, which they would only waste samples on.
 */
export function rejectRepeats(ctx: RolloutContext, parsed: QuestionerSample[]): QuestionerSample[] {
  if (!ctx.references.enabled) return parsed;
  for (const q of parsed) {
    if (ctx.references.observe(q.task, okParse(q).referenceAnswer)) {
      q.label = 'bad_repeat';
      ctx.counters.add('questioner/bad_repeat');
      ctx.counters.add(`questioner/task/${q.task}/bad_repeat`);
    }
  }
  return parsed.filter((q) => q.label === 'good');
}

/** B''. Grounding filter: answer with no documents; a rule-correct answer marks `bad_ground`. */
export async function filterGrounded(
  ctx: RolloutContext,
  parsed: QuestionerSample[],
): Promise<QuestionerSample[]> {
  const { policy, algo } = ctx;
  if (!algo.groundingFilter || parsed.length === 0) return parsed;
  ctx.onPhase?.('grounding');
  const prompts = parsed.map((q) =>
    policy.render(groundingPrompt({ task: q.task, question: okParse(q).responderQuestion })),
  );
  const gens = await policy.sampleAll(
    prompts,
    1,
    prompts.map(() => ctx.nextSeed()),
  );
  parsed.forEach((q, i) => {
    const text = gens[i][0].text;
    const { score, badGround } = groundingVerdict(q.task, text, okParse(q), algo);
    q.grounding = { text, score };
    if (badGround) {
      q.label = 'bad_ground';
      ctx.counters.add('questioner/bad_ground');
    }
  });
  return parsed.filter((q) => q.label === 'good');
}

/**
 * C. Responder: all documents of the cluster, G samples each; a question whose prompt is over the
 * cap is labeled `overlong_prompt` and dropped.
 */
export async function sampleResponders(
  ctx: RolloutContext,
  questions: readonly QuestionerSample[],
  clusterById: ReadonlyMap<string, Cluster>,
): Promise<{ readonly plan: ResponderPlan; readonly gens: readonly Generation[] }[]> {
  const { policy, cfg } = ctx;
  ctx.onPhase?.('responder');
  const plans: ResponderPlan[] = [];
  for (const q of questions) {
    const cluster = clusterById.get(q.clusterId) as Cluster;
    const promptIds = policy.render(
      responderPromptFor(q.task, cluster.documents, okParse(q).responderQuestion),
    );
    if (promptIds.length > cfg.rollout.maxPromptTokens) {
      q.label = 'overlong_prompt';
      ctx.counters.add('responder/dropped_overlong');
      continue;
    }
    plans.push({ q, promptIds, cluster });
  }
  const gens = await policy.sampleAll(
    plans.map((r) => r.promptIds),
    cfg.rollout.groupSize,
    plans.map(() => ctx.nextSeed()),
  );
  return plans.map((plan, i) => ({ plan, gens: gens[i] }));
}

/** D. Rule checks on every answer; the rule score is the reward until a verifier judges it. */
export function checkAnswers(
  ctx: RolloutContext,
  sampled: readonly { readonly plan: ResponderPlan; readonly gens: readonly Generation[] }[],
): AnsweredQuestion[] {
  const answered = sampled.map(({ plan, gens }) => ({
    ...plan,
    samples: gens.map((gen, index): ResponderSample => {
      const rule = checkAnswer(
        plan.q.task,
        gen.text,
        okParse(plan.q),
        ctx.algo,
        gen.stopReason === 'length',
      );
      return {
        questionUid: plan.q.uid,
        index,
        gen,
        ruleScore: rule.score,
        pred: rule.pred,
        gt: rule.gt,
        reward: rule.score,
      };
    }),
  }));
  for (const { samples } of answered) {
    for (const s of samples) {
      ctx.counters.add('responder/answers');
      if (s.ruleScore >= 1) ctx.counters.add('responder/rule_correct');
    }
  }
  return answered;
}

/**
 * D'. Verifier: V votes on every answer with both an extracted prediction and reference. Sets each
 * judged answer's majority and reward; returns one verifier group per judged answer.
 */
export async function runVerifier(
  ctx: RolloutContext,
  answered: readonly AnsweredQuestion[],
): Promise<VerifierGroup[]> {
  const { policy, cfg, algo, counters } = ctx;
  if (!algo.verifier.enable) return [];
  ctx.onPhase?.('verifier');
  const judged: { q: QuestionerSample; s: ResponderSample; promptIds: number[] }[] = [];
  for (const { q, samples } of answered) {
    for (const s of samples) {
      const text = verifierPromptFor(okParse(q), s);
      if (text === undefined) {
        counters.add('verifier/not_judged');
        continue;
      }
      judged.push({ q, s, promptIds: policy.render(text) });
    }
  }
  const gens = await policy.sampleAll(
    judged.map((j) => j.promptIds),
    cfg.rollout.verifierVotes,
    judged.map(() => ctx.nextSeed()),
  );
  return judged.map(({ q, s, promptIds }, ji): VerifierGroup => {
    const judgement = judgeReplies(
      s.ruleScore,
      gens[ji].map((g) => g.text),
      algo,
    );
    countJudgement(counters, s.ruleScore, judgement);
    s.majority = judgement.majority;
    s.reward = judgement.reward;
    return {
      uid: `${q.uid}-r${s.index}-v`,
      questionUid: q.uid,
      task: q.task,
      responderIndex: s.index,
      promptIds,
      gens: gens[ji],
      votes: judgement.votes,
      majority: judgement.majority,
      rewards: judgement.voteRewards,
      agreement: judgement.agreement,
      selected: judgement.selected,
    };
  });
}

/** D'. The verifier counters of one judged answer. */
function countJudgement(counters: Counters, ruleScore: number, j: Judgement): void {
  counters.add('verifier/votes', j.votes.length);
  counters.add('verifier/invalid_votes', j.votes.filter((v) => v === -1).length);
  if (j.majority !== -1) {
    counters.add('verifier/judged');
    if (j.majority !== ruleScore) counters.add('verifier/disagree_with_rule');
    // A YES on an answer the rule check rejects is what max() pays as reward; a NO on one it
    // accepts is harmless to the responder under max() but is still a verifier error.
    if (j.majority === 1 && ruleScore < 1) counters.add('verifier/false_yes');
    if (j.majority === 0 && ruleScore >= 1) counters.add('verifier/false_no');
  } else {
    counters.add('verifier/no_majority');
  }
  if (j.selected) counters.add('verifier/groups_selected');
}

/**
 * E. Dynamic sampling + history memory: each question's pass rate, its history push when solved,
 * and the groups kept (with spread) versus all groups, both in gen-batch order.
 */
export function settleGroups(
  ctx: RolloutContext,
  answered: readonly AnsweredQuestion[],
): { readonly allGroups: ResponderGroup[]; readonly keptGroups: ResponderGroup[] } {
  const { algo, counters } = ctx;
  const allGroups: ResponderGroup[] = [];
  const keptGroups: ResponderGroup[] = [];
  for (const { q, cluster, promptIds, samples } of answered) {
    const settled = settleQuestion(
      samples.map((s) => s.reward),
      algo,
    );
    q.passRate = settled.passRate;
    if (settled.pushToHistory) {
      const outcome = ctx.memory.push(q.task, q.clusterId, {
        evidence: q.documentIndices,
        question: okParse(q).responderQuestion,
        answer: okParse(q).referenceAnswer,
      });
      counters.add(`history/${outcome}`);
    }
    const group: ResponderGroup = {
      uid: q.uid,
      task: q.task,
      promptIds,
      samples,
      passRate: settled.passRate,
      questionerDocuments: q.documentIndices.length,
      clusterDocuments: cluster.documents.length,
    };
    allGroups.push(group);
    if (settled.zeroVariance) {
      q.label = 'zero_variance';
      counters.add('responder/zero_variance');
    } else {
      keptGroups.push(group);
    }
  }
  return { allGroups, keptGroups };
}

function okParse(q: QuestionerSample): ParsedQuestion {
  if (q.parse.kind !== 'ok') throw new Error(`questioner sample ${q.uid} has no parsed question`);
  return q.parse;
}
