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
import { assembleBatch } from '../spell/batch.ts';
import { isBadCaseLabel } from '../spell/rewards.ts';
import { computeTrainItems, type BatchEntries, type TrainItem } from '../spell/train-items.ts';
import { Counters } from './counters.ts';
import { runPolicyUpdate, timingBreakdown } from './update.ts';
import { batchMetrics } from './metrics.ts';
import {
  passRateMetrics,
  trainedSample,
  trajectoryOf,
  type RolloutRecord,
  type StepOutcome,
  type TrainPayload,
} from './records.ts';
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
}

export type { StepOutcome };

type Item = TrainItem<TrainPayload>;

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
    questioners: questioners.flatMap((q) => {
      const label = q.label;
      if (label === 'good') return [{ uid: q.uid, task: q.task, item: q }];
      return isBadCaseLabel(label) ? [{ uid: q.uid, task: q.task, badLabel: label, item: q }] : [];
    }),
    verifierBuffer: algo.verifier.update
      ? verifierGroups.filter((v) => v.selected).map((v) => ({ uid: v.uid, items: v.gens }))
      : [],
    verifierUpdateRatio: algo.verifier.update ? algo.verifier.updateRatio : 0,
    verifierVotes: cfg.rollout.verifierVotes,
    badCaseRatio: algo.badCaseRatio,
    worldSize: algo.worldSize,
    badCaseRng: ctx.badCaseRng,
    verifierRng: ctx.verifierRng,
  });

  // Rewards and advantages per role (spell/train-items.ts).
  const groupByUid = new Map(all.map((g) => [g.uid, g]));
  const vgByUid = new Map(verifierGroups.map((v) => [v.uid, v]));
  const votesSeen = new Map<string, number>();
  const entries: BatchEntries<TrainPayload> = {
    responder: assembled.responder.flatMap((group) => {
      const g = groupByUid.get(group.uid) as ResponderGroup;
      return group.items.map((s) => ({
        uid: g.uid,
        task: g.task,
        reward: s.reward,
        payload: { promptIds: g.promptIds, gen: s.gen },
      }));
    }),
    questionerGood: assembled.questionerGood.map((q) => ({
      uid: q.uid,
      task: q.task,
      passRate: q.item.passRate ?? 0,
      payload: { promptIds: q.item.promptIds, gen: q.item.gen },
    })),
    questionerBad: assembled.questionerBad.map((b) => ({
      uid: b.uid,
      task: b.task,
      label: b.label,
      payload: { promptIds: b.item.promptIds, gen: b.item.gen },
    })),
    verifier: assembled.verifier.map((v) => {
      const vg = vgByUid.get(v.uid) as VerifierGroup;
      const k = votesSeen.get(v.uid) ?? 0;
      votesSeen.set(v.uid, k + 1);
      return {
        uid: v.uid,
        task: vg.task,
        reward: vg.rewards[k],
        payload: { promptIds: vg.promptIds, gen: v.item },
      };
    }),
  };
  const items = computeTrainItems(entries, algo);

  // One policy update.
  const update = await runPolicyUpdate(policy, cfg, items.map(trajectoryOf), counters);
  onPhase('');

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
    ...batchMetrics(items.map(trainedSample)),
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

/** Pass rate, difficulty and context growth per task; verifier/rule agreement. */
function curriculumMetrics(
  groups: readonly ResponderGroup[],
  questioners: readonly QuestionerSample[],
  counters: Counters,
): Record<string, number> {
  const rates = passRateMetrics(groups);
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
      const pr = rates[`responder/task/${task}/pass_rate`];
      out[`responder/task/${task}/pass_rate`] = pr;
      out[`questions/task/${task}/difficulty`] = 1 - pr;
      const answers = gs.flatMap((g) => g.samples);
      if (answers.length > 0) {
        out[`responder/task/${task}/rule_accuracy`] =
          answers.filter((a) => a.ruleScore >= 1).length / answers.length;
      }
    }
  }
  if (groups.length > 0) out['responder/pass_rate'] = rates['responder/pass_rate'];
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
  items: readonly Item[],
): RolloutRecord[] {
  const advOf = new Map<string, number[]>();
  for (const i of items) {
    const key = `${i.role}:${i.uid}`;
    const list = advOf.get(key) ?? [];
    list.push(i.advantage);
    advOf.set(key, list);
  }
  const rewardOf = new Map<string, number>();
  for (const i of items) if (i.role === 'questioner') rewardOf.set(i.uid, i.reward);
  const out: RolloutRecord[] = [];
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
