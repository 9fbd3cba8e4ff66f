/**
 * One SPELL training step (spell-algorithm.md §1.2 F–H): gen batches until enough responder groups
 * (or the gen-batch limit), the balanced final batch, role rewards and advantages, one
 * forwardBackward + optimStep, refreshSampler. Returns the step's metrics and rollout records; the
 * trainer writes them.
 */
import type { Cluster } from '../data/cluster.ts';
import type { DomainSampler } from '../data/sampler.ts';
import type { Rng } from '../core/rng.ts';
import type { Task } from '../spell/task.ts';
import { assembleBatch, type SampleGroup } from '../spell/batch.ts';
import { questionerReward, type BadCaseLabel } from '../spell/rewards.ts';
import {
  questionerAdvantages,
  responderAdvantages,
  verifierAdvantages,
} from '../spell/advantages.ts';
import type { LossAggregation } from '../engine/types.ts';
import { Counters } from './counters.ts';
import type { Trajectory } from './datums.ts';
import { runPolicyUpdate, timingBreakdown } from './update.ts';
import { batchMetrics, type TrainedSample, type Role } from './metrics.ts';
import {
  runGenBatch,
  type QuestionerSample,
  type ResponderGroup,
  type ResponderSample,
  type RolloutContext,
  type VerifierGroup,
} from './rollout.ts';
import type { Generation } from './policy.ts';

export interface StepContext extends Omit<RolloutContext, 'counters'> {
  readonly sampler: DomainSampler;
  readonly clustersByTask: Readonly<Record<Task, readonly Cluster[]>>;
  readonly badCaseRng: Rng;
  readonly verifierRng: Rng;
  readonly lossAggregation: LossAggregation;
}

export interface StepOutcome {
  readonly metrics: Record<string, number>;
  readonly rollouts: object[];
}

interface TrainItem {
  readonly role: Role;
  readonly task: Task;
  readonly uid: string;
  readonly promptIds: readonly number[];
  readonly gen: Generation;
  readonly reward: number;
  advantage: number;
}

const BAD_LABELS: ReadonlySet<string> = new Set([
  'bad_format',
  'bad_ground',
  'bad_repeat',
  'zero_variance',
]);

export async function runTrainStep(ctx: StepContext, step: number): Promise<StepOutcome> {
  const { cfg, algo, policy } = ctx;
  const counters = new Counters();
  const timing: Record<string, number> = {};
  const t0 = performance.now();
  let phaseStart = t0;
  let phaseName = '';
  const onPhase = (phase: string): void => {
    const now = performance.now();
    if (phaseName) timing[phaseName] = (timing[phaseName] ?? 0) + (now - phaseStart) / 1000;
    phaseName = phase;
    phaseStart = now;
    ctx.onPhase?.(phase);
  };
  const rctx: RolloutContext = { ...ctx, counters, onPhase };
  const sampleSecondsBefore = policy.sampleSeconds;

  const questioners: QuestionerSample[] = [];
  const kept: ResponderGroup[] = [];
  const all: ResponderGroup[] = [];
  const verifierGroups: VerifierGroup[] = [];
  let genBatches = 0;
  while (kept.length < cfg.rollout.responderGroups && genBatches < cfg.rollout.maxGenBatches) {
    const draws = ctx.sampler.next().map((d) => ({
      task: d.task,
      cluster: ctx.clustersByTask[d.task][d.index],
    }));
    const res = await runGenBatch(rctx, draws, `s${step}-b${genBatches}`);
    genBatches += 1;
    questioners.push(...res.questioners);
    kept.push(...res.keptGroups);
    all.push(...res.allGroups);
    verifierGroups.push(...res.verifierGroups);
  }
  if (kept.length < cfg.rollout.responderGroups) {
    // The reference raises after max gen batches; we train on what was gathered and say so.
    counters.add('train/responder_groups_short', cfg.rollout.responderGroups - kept.length);
  }

  onPhase('update');
  const assembled = assembleBatch<ResponderSample, QuestionerSample, Generation>({
    responderGroups: kept.map((g) => ({ uid: g.uid, items: g.samples })),
    targetGroups: cfg.rollout.responderGroups,
    questioners: questioners
      .filter((q) => q.label === 'good' || BAD_LABELS.has(q.label))
      .map((q) => ({
        uid: q.uid,
        task: q.task,
        ...(BAD_LABELS.has(q.label) ? { badLabel: q.label as BadCaseLabel } : {}),
        item: q,
      })),
    verifierBuffer: cfg.algorithm.verifier.update
      ? verifierGroups.filter((v) => v.selected).map((v) => ({ uid: v.uid, items: v.gens }))
      : [],
    verifierUpdateRatio: cfg.algorithm.verifier.update ? algo.verifier.updateRatio : 0,
    verifierVotes: cfg.rollout.verifierVotes,
    badCaseRatio: algo.badCaseRatio,
    worldSize: algo.worldSize,
    badCaseRng: ctx.badCaseRng,
    verifierRng: ctx.verifierRng,
  });

  // Rewards per role.
  const groupByUid = new Map(all.map((g) => [g.uid, g]));
  const vgByUid = new Map(verifierGroups.map((v) => [v.uid, v]));
  const items: TrainItem[] = [];
  for (const group of assembled.responder as SampleGroup<ResponderSample>[]) {
    const g = groupByUid.get(group.uid) as ResponderGroup;
    for (const s of group.items) {
      items.push({
        role: 'responder',
        task: g.task,
        uid: g.uid,
        promptIds: g.promptIds,
        gen: s.gen,
        reward: s.reward,
        advantage: 0,
      });
    }
  }
  for (const q of assembled.questionerGood) {
    const p = q.item.passRate ?? 0;
    items.push({
      role: 'questioner',
      task: q.task,
      uid: q.uid,
      promptIds: q.item.promptIds,
      gen: q.item.gen,
      reward: questionerReward({ kind: 'good', passRate: p }, algo),
      advantage: 0,
    });
  }
  for (const b of assembled.questionerBad) {
    items.push({
      role: 'questioner',
      task: b.task,
      uid: b.uid,
      promptIds: b.item.promptIds,
      gen: b.item.gen,
      reward: questionerReward({ kind: b.label }, algo),
      advantage: 0,
    });
  }
  const votesSeen = new Map<string, number>();
  for (const v of assembled.verifier) {
    const vg = vgByUid.get(v.uid) as VerifierGroup;
    const k = votesSeen.get(v.uid) ?? 0;
    votesSeen.set(v.uid, k + 1);
    items.push({
      role: 'verifier',
      task: vg.task,
      uid: v.uid,
      promptIds: vg.promptIds,
      gen: v.item,
      reward: vg.rewards[k],
      advantage: 0,
    });
  }

  // Advantages per role (GRPO z-scores; questioner per task or over the batch).
  applyAdvantages(items, 'responder', (r, keys) =>
    responderAdvantages(r, keys, algo.advantageEpsilon),
  );
  applyAdvantages(items, 'verifier', (r, keys) =>
    verifierAdvantages(r, keys, algo.advantageEpsilon),
  );
  const qItems = items.filter((i) => i.role === 'questioner');
  const qAdv = questionerAdvantages(
    qItems.map((i) => i.reward),
    qItems.map((i) => i.task),
    algo.questionerNormalization,
    algo.advantageEpsilon,
  );
  qItems.forEach((item, i) => (item.advantage = qAdv[i]));

  // One policy update.
  const trajectories: Trajectory[] = items.map((i) => ({
    promptIds: i.promptIds,
    tokens: i.gen.tokens,
    logprobs: i.gen.logprobs,
    advantage: i.advantage,
  }));
  const update = await runPolicyUpdate(policy, cfg, trajectories, ctx.lossAggregation, counters);
  onPhase('');

  const trained: TrainedSample[] = items.map((i) => ({
    role: i.role,
    task: i.task,
    reward: i.reward,
    advantage: i.advantage,
    responseLength: i.gen.tokens.length,
    promptLength: i.promptIds.length,
    clipped: i.gen.stopReason === 'length',
  }));
  const metrics: Record<string, number> = {
    step,
    'train/num_gen_batches': genBatches,
    'train/responder_groups': assembled.stats.responderGroupsKept,
    'train/questioner_good': assembled.stats.questionerGood,
    'train/questioner_bad': assembled.questionerBad.length,
    'train/bad_shortfall': assembled.stats.badShortfall,
    'train/verifier_trajectories': assembled.verifier.length,
    'train/verifier_skipped': assembled.stats.verifierSkipped ? 1 : 0,
    'train/verifier_groups_available': assembled.stats.verifierGroupsAvailable,
    'train/datums': update.datums,
    ...batchMetrics(trained),
    ...update.metrics,
    ...curriculumMetrics(all, questioners, counters),
    ...counters.toMetrics(),
  };
  for (const [k, v] of Object.entries(timing)) metrics[`timing_s/${k}`] = v;
  Object.assign(
    metrics,
    timingBreakdown(t0, policy.sampleSeconds - sampleSecondsBefore, update.seconds),
  );

  const trainedUids = new Set(items.map((i) => `${i.role}:${i.uid}`));
  return {
    metrics,
    rollouts: rolloutRecords(step, questioners, all, verifierGroups, trainedUids, items),
  };
}

function applyAdvantages(
  items: TrainItem[],
  role: Role,
  fn: (rewards: number[], keys: string[]) => number[],
): void {
  const sel = items.filter((i) => i.role === role);
  const adv = fn(
    sel.map((i) => i.reward),
    sel.map((i) => i.uid),
  );
  sel.forEach((item, i) => (item.advantage = adv[i]));
}

/** Pass rate, difficulty and context growth per task; verifier/rule agreement. */
function curriculumMetrics(
  groups: readonly ResponderGroup[],
  questioners: readonly QuestionerSample[],
  counters: Counters,
): Record<string, number> {
  const out: Record<string, number> = {};
  const tasks = [...new Set(questioners.map((q) => q.task))].sort();
  for (const task of tasks) {
    const gs = groups.filter((g) => g.task === task);
    const qs = questioners.filter((q) => q.task === task);
    out[`questions/task/${task}/asked`] = qs.length;
    out[`questions/task/${task}/reached_responder`] = gs.length;
    out[`questions/task/${task}/from_cache`] = qs.filter((q) => q.fromCache).length;
    if (qs.length > 0) {
      out[`context/task/${task}/documents_mean`] =
        qs.reduce((s, q) => s + q.documentIndices.length, 0) / qs.length;
    }
    if (gs.length > 0) {
      const pr = gs.reduce((s, g) => s + g.passRate, 0) / gs.length;
      out[`responder/task/${task}/pass_rate`] = pr;
      out[`questions/task/${task}/difficulty`] = 1 - pr;
      const answers = gs.flatMap((g) => g.samples);
      if (answers.length > 0) {
        out[`responder/task/${task}/rule_accuracy`] =
          answers.filter((a) => a.ruleScore >= 1).length / answers.length;
      }
    }
  }
  if (groups.length > 0) {
    out['responder/pass_rate'] = groups.reduce((s, g) => s + g.passRate, 0) / groups.length;
  }
  const judged = counters.get('verifier/judged');
  if (judged > 0) {
    out['verifier/rule_disagreement_rate'] = counters.get('verifier/disagree_with_rule') / judged;
  }
  const answers = counters.get('responder/answers');
  if (answers > 0)
    out['responder/rule_accuracy'] = counters.get('responder/rule_correct') / answers;
  const votes = counters.get('verifier/votes');
  if (votes > 0) out['verifier/invalid_vote_rate'] = counters.get('verifier/invalid_votes') / votes;
  return out;
}

function rolloutRecords(
  step: number,
  questioners: readonly QuestionerSample[],
  groups: readonly ResponderGroup[],
  verifierGroups: readonly VerifierGroup[],
  trainedUids: ReadonlySet<string>,
  items: readonly TrainItem[],
): object[] {
  const advOf = new Map<string, number[]>();
  for (const i of items) {
    const key = `${i.role}:${i.uid}`;
    const list = advOf.get(key) ?? [];
    list.push(i.advantage);
    advOf.set(key, list);
  }
  const rewardOf = new Map<string, number>();
  for (const i of items) if (i.role === 'questioner') rewardOf.set(i.uid, i.reward);
  const out: object[] = [];
  for (const q of questioners) {
    out.push({
      step,
      role: 'questioner',
      uid: q.uid,
      task: q.task,
      cluster_id: q.clusterId,
      documents: q.documentIndices,
      from_cache: q.fromCache,
      target_letter: q.targetLetter ?? null,
      prompt_tokens: q.promptIds.length,
      text: q.gen.text,
      parse: q.parse,
      label: q.label,
      grounding: q.grounding ?? null,
      pass_rate: q.passRate ?? null,
      reward: rewardOf.get(q.uid) ?? null,
      advantage: advOf.get(`questioner:${q.uid}`)?.[0] ?? null,
      trained: trainedUids.has(`questioner:${q.uid}`),
    });
  }
  for (const g of groups) {
    const adv = advOf.get(`responder:${g.uid}`);
    g.samples.forEach((s, k) => {
      out.push({
        step,
        role: 'responder',
        uid: g.uid,
        task: g.task,
        index: k,
        prompt_tokens: g.promptIds.length,
        text: s.gen.text,
        stop_reason: s.gen.stopReason,
        pred: s.pred,
        gt: s.gt,
        rule_score: s.ruleScore,
        majority: s.majority ?? null,
        reward: s.reward,
        advantage: adv?.[k] ?? null,
        trained: adv !== undefined,
      });
    });
  }
  for (const v of verifierGroups) {
    const adv = advOf.get(`verifier:${v.uid}`);
    v.gens.forEach((gen, k) => {
      out.push({
        step,
        role: 'verifier',
        uid: v.uid,
        question_uid: v.questionUid,
        responder_index: v.responderIndex,
        task: v.task,
        text: gen.text,
        vote: v.votes[k],
        majority: v.majority,
        agreement: v.agreement ?? null,
        selected: v.selected,
        reward: v.rewards[k],
        advantage: adv?.[k] ?? null,
        trained: adv !== undefined,
      });
    });
  }
  return out;
}
