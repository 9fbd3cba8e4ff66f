/**
 * The static-RLVR control (the paper's baseline): the same policy and update, trained as a
 * responder only, on a FIXED set of labeled questions, rewarded by the rule checks. No questioner,
 * no verifier, no history memory. It exists so the miniature experiment can compare label-free
 * self-play with supervised-reward RL at the same compute.
 *
 * Per step: draw `responderGroups` questions (seeded shuffled order, refilled when used up), G
 * answers each over the question's documents, rule-check rewards, GRPO advantages per question,
 * one PPO update.
 */
import { Rng } from '../core/rng.ts';
import { ConfigurationError } from '../core/errors.ts';
import type { EvalRecord } from '../data/synth/corpus.ts';
import { readEvalSet } from '../data/synth/eval-set.ts';
import { responderPrompt } from '../spell/prompts/index.ts';
import { formatMcQuestion } from '../spell/questioner-parse.ts';
import { checkAgainst } from '../spell/question-flow.ts';
import { classifyResponderGroup, passRate } from '../spell/rewards.ts';
import { computeTrainItems, type TrainItem } from '../spell/train-items.ts';
import type { TrainConfig } from './config.ts';
import { Counters } from './counters.ts';
import { runPolicyUpdate, timingBreakdown } from './update.ts';
import { batchMetrics } from './metrics.ts';
import type { RolePolicy } from './policy.ts';
import {
  passRateMetrics,
  trainedSample,
  trajectoryOf,
  type RolloutRecord,
  type StepOutcome,
  type TrainPayload,
} from './records.ts';

/** Read the labeled questions (the held-out evaluation layout: id, task, documents, question, options, answer). */
export function readLabeledQuestions(paths: readonly string[]): EvalRecord[] {
  if (paths.length === 0) {
    throw new ConfigurationError(
      'mode rlvr needs labeled questions: set data.labeledPaths (e.g. from `spell data labeled`)',
    );
  }
  return paths.flatMap((p) => readEvalSet(p));
}

/** The question the responder sees (multiple choice: rebuilt with its options). */
export function responderQuestion(q: EvalRecord): string {
  return q.options === undefined ? q.question : formatMcQuestion(q.question, q.options);
}

/** Seeded cycling order over the labeled questions; its state is part of the checkpoint. */
export class LabeledSampler {
  private constructor(
    private readonly size: number,
    private order: number[],
    private position: number,
    private readonly rng: Rng,
  ) {}

  static create(size: number, rng: Rng): LabeledSampler {
    if (size <= 0) throw new ConfigurationError('the labeled question set is empty');
    return new LabeledSampler(size, rng.shuffle([...Array(size).keys()]), 0, rng);
  }

  static fromState(state: unknown, size: number): LabeledSampler {
    const s = state as { order?: unknown; position?: unknown; rng?: unknown };
    if (
      !Array.isArray(s.order) ||
      s.order.length !== size ||
      typeof s.position !== 'number' ||
      !Array.isArray(s.rng)
    ) {
      throw new ConfigurationError(
        `the checkpoint's labeled-question sampler does not match ${size} labeled questions`,
      );
    }
    return new LabeledSampler(
      size,
      s.order as number[],
      s.position,
      Rng.fromState(s.rng as [number, number, number, number]),
    );
  }

  state(): { order: number[]; position: number; rng: number[] } {
    return { order: [...this.order], position: this.position, rng: [...this.rng.state()] };
  }

  next(count: number): number[] {
    const out: number[] = [];
    for (let i = 0; i < count; i++) {
      if (this.position >= this.size) {
        this.order = this.rng.shuffle([...Array(this.size).keys()]);
        this.position = 0;
      }
      out.push(this.order[this.position++]);
    }
    return out;
  }
}

export interface RlvrContext {
  readonly policy: RolePolicy;
  readonly cfg: TrainConfig;
  readonly questions: readonly EvalRecord[];
  readonly sampler: LabeledSampler;
  readonly nextSeed: () => number;
  readonly onPhase?: (phase: string) => void;
}

export async function runRlvrStep(ctx: RlvrContext, step: number): Promise<StepOutcome> {
  const { policy, cfg } = ctx;
  const counters = new Counters();
  const t0 = performance.now();
  const sampleBefore = policy.sampleSeconds;
  ctx.onPhase?.('responder');
  const picked = ctx.sampler.next(cfg.rollout.responderGroups).map((i) => ctx.questions[i]);
  const plans: { q: EvalRecord; promptIds: number[] }[] = [];
  for (const q of picked) {
    const promptIds = policy.render(
      responderPrompt({
        task: q.task,
        documents: q.documents.join('\n'),
        question: responderQuestion(q),
      }),
    );
    if (promptIds.length > cfg.rollout.maxPromptTokens) {
      counters.add('responder/dropped_overlong');
      continue;
    }
    plans.push({ q, promptIds });
  }
  const G = cfg.rollout.groupSize;
  const gens = await policy.sampleAll(
    plans.map((p) => p.promptIds),
    G,
    plans.map(() => ctx.nextSeed()),
  );
  const answers: { q: EvalRecord; reward: number; payload: TrainPayload }[] = [];
  const groups: { task: EvalRecord['task']; passRate: number }[] = [];
  plans.forEach((p, gi) => {
    const group = gens[gi];
    const rewards = group.map(
      (g) =>
        checkAgainst(p.q.task, g.text, p.q.answer, cfg.algorithm, g.stopReason === 'length').score,
    );
    groups.push({ task: p.q.task, passRate: passRate(rewards) });
    if (classifyResponderGroup(rewards) === 'zero_variance')
      counters.add('responder/zero_variance');
    group.forEach((gen, k) => {
      answers.push({ q: p.q, reward: rewards[k], payload: { promptIds: p.promptIds, gen } });
    });
  });
  const items: TrainItem<TrainPayload>[] = computeTrainItems(
    {
      responder: answers.map((a) => ({
        uid: a.q.id,
        task: a.q.task,
        reward: a.reward,
        payload: a.payload,
      })),
      questionerGood: [],
      questionerBad: [],
      verifier: [],
    },
    cfg.algorithm,
  );

  ctx.onPhase?.('update');
  const update = await runPolicyUpdate(policy, cfg, items.map(trajectoryOf), counters);
  ctx.onPhase?.('');

  // Tasks grouped in first-seen order, so the overall mean sums in the order it always has.
  const taskOrder = [...new Set(groups.map((g) => g.task))];
  const rates = passRateMetrics(taskOrder.flatMap((t) => groups.filter((g) => g.task === t)));
  const metrics: Record<string, number> = {
    step,
    'train/mode_rlvr': 1,
    'train/responder_groups': plans.length,
    'train/datums': update.datums,
    ...batchMetrics(items.map(trainedSample)),
    ...update.metrics,
    ...counters.toMetrics(),
  };
  for (const task of taskOrder) {
    const pr = rates[`responder/task/${task}/pass_rate`];
    metrics[`responder/task/${task}/pass_rate`] = pr;
    // The reward is the rule score here, and every group has G answers: the pass rate is the
    // rule accuracy, under the name self-play uses so the experiment plots can compare them.
    metrics[`responder/task/${task}/rule_accuracy`] = pr;
  }
  if (groups.length > 0) {
    metrics['responder/pass_rate'] = rates['responder/pass_rate'];
    metrics['responder/rule_accuracy'] = rates['responder/pass_rate'];
  }
  Object.assign(metrics, timingBreakdown(t0, policy.sampleSeconds - sampleBefore, update.seconds));
  const rollouts: RolloutRecord[] = items.map((i, n) => ({
    step,
    role: 'responder',
    uid: i.uid,
    task: i.task,
    index: n % G,
    text: i.payload.gen.text,
    stop_reason: i.payload.gen.stopReason,
    answer: answers[n].q.answer,
    reward: i.reward,
    advantage: i.advantage,
    trained: true,
  }));
  return { metrics, rollouts };
}
