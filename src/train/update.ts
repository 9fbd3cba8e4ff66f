/**
 * The policy update shared by every training mode: trajectories → datums (token-mean scaling) →
 * π_old recomputed by the learner (or the sampler's, per `algorithm.oldLogprobs`) → one PPO
 * forwardBackward at the learner temperature + optimStep → refreshSampler, with the update's
 * metrics and engine time.
 * A batch with nothing trainable (no datums, or every advantage zero) records a skipped update
 * instead.
 */
import type { Datum, EngineInfo, LossConfig } from '../engine/types.ts';
import type { TrainConfig } from './config.ts';
import type { Counters } from './counters.ts';
import { buildDatums, type Trajectory } from './datums.ts';
import type { RolePolicy } from './policy.ts';

export interface UpdateOutcome {
  /** `actor/*` metrics (only `actor/logprob_temperature` when the update was skipped). */
  readonly metrics: Record<string, number>;
  readonly datums: number;
  /** Wall-clock seconds spent in the engine for the update. */
  readonly seconds: number;
}

/**
 * The temperature the learner's log-probs are computed at: the rollout temperature (the
 * reference's actor divides the logits by it in both log-prob passes, spell-algorithm.md §7.2)
 * when `algorithm.logprobTemperature` is `rollout` and the engine can apply it; else 1. A greedy
 * rollout (temperature 0) has no tempered distribution, so its learner runs at 1.
 */
export function learnerTemperature(cfg: TrainConfig, info: EngineInfo): number {
  if (cfg.algorithm.logprobTemperature !== 'rollout') return 1;
  if (info.lossTemperature !== true) return 1;
  return cfg.rollout.temperature > 0 ? cfg.rollout.temperature : 1;
}

export async function runPolicyUpdate(
  policy: Pick<RolePolicy, 'engine' | 'lossAggregation'>,
  cfg: TrainConfig,
  trajectories: readonly Trajectory[],
  counters: Counters,
): Promise<UpdateOutcome> {
  const engine = policy.engine;
  const temperature = learnerTemperature(cfg, await engine.info());
  // Recorded every step, skipped or not: a remote engine may train at 1 while sampling at 0.7.
  const metrics: Record<string, number> = { 'actor/logprob_temperature': temperature };
  const datums = buildDatums(trajectories, cfg.optim.lossAggregation, policy.lossAggregation);
  if (datums.length === 0) {
    counters.add('train/skipped_update');
    return { metrics, datums: 0, seconds: 0 };
  }
  // Every advantage zero (e.g. static RLVR groups all right or all wrong): the PPO gradient is
  // exactly zero, so two forward passes over the batch would buy nothing; skipped as an empty
  // batch is (SPELL's own flow never keeps such groups).
  if (datums.every((d) => (d.advantages ?? []).every((a) => a === 0))) {
    counters.add('train/skipped_update');
    counters.add('train/skipped_zero_advantage');
    return { metrics, datums: 0, seconds: 0 };
  }
  const t0 = performance.now();
  const lossConfig: LossConfig = {
    clipLowThreshold: 1 - cfg.optim.clipLow,
    clipHighThreshold: 1 + cfg.optim.clipHigh,
    ...(temperature !== 1 ? { temperature } : {}),
  };
  // π_old: the reference recomputes it with the learner on the current weights, so the ratio
  // starts at 1; `sampler` keeps the sampler's log-probs (Tinker's usual recipe).
  let trained = datums;
  let learnerBefore: readonly (readonly number[])[] | undefined;
  if (cfg.algorithm.oldLogprobs === 'recompute') {
    const old = await engine.forward(datums, 'ppo', lossConfig);
    learnerBefore = old.logprobs;
    trained = datums.map((d, i) => ({ ...d, logprobs: old.logprobs[i] ?? [] }));
  }
  const fb = await engine.forwardBackward(trained, 'ppo', lossConfig);
  const gap = logprobGap(datums, learnerBefore ?? fb.logprobs);
  const ppo = ratioStats(trained, fb.logprobs, lossConfig);
  metrics['actor/pg_loss'] = fb.loss;
  metrics['actor/pg_clipfrac'] = ppo.clipFraction;
  metrics['actor/ppo_kl'] = ppo.kl;
  metrics['actor/sampler_learner_logprob_gap'] = gap.meanAbs;
  metrics['actor/sampler_learner_logprob_gap_max'] = gap.maxAbs;
  const opt = await engine.optimStep({
    learningRate: cfg.optim.learningRate,
    beta1: cfg.optim.beta1,
    beta2: cfg.optim.beta2,
    eps: cfg.optim.eps,
    weightDecay: cfg.optim.weightDecay,
    gradClipNorm: cfg.optim.gradClipNorm,
  });
  for (const [k, v] of Object.entries(opt.metrics)) metrics[`actor/${k}`] = v;
  metrics['actor/lr'] = cfg.optim.learningRate;
  await engine.refreshSampler();
  return { metrics, datums: datums.length, seconds: (performance.now() - t0) / 1000 };
}

/** Positions that carry loss: response tokens (prompt positions have advantage 0). */
function forTrainedTokens(
  datums: readonly Datum[],
  learner: readonly (readonly number[])[],
  visit: (old: number, learner: number, advantage: number) => void,
): void {
  datums.forEach((d, i) => {
    const lp = learner[i] ?? [];
    (d.advantages ?? []).forEach((a, t) => {
      if (a !== 0) visit(d.logprobs?.[t] ?? 0, lp[t] ?? 0, a);
    });
  });
}

/**
 * |sampler − learner| log-prob over trained tokens, the learner on the weights the samples came
 * from: float noise on the local engine, a real mismatch on some remote ones.
 */
export function logprobGap(
  datums: readonly Datum[],
  learner: readonly (readonly number[])[],
): { meanAbs: number; maxAbs: number } {
  let sum = 0;
  let max = 0;
  let n = 0;
  forTrainedTokens(datums, learner, (s, l) => {
    const g = Math.abs(s - l);
    sum += g;
    max = Math.max(max, g);
    n++;
  });
  return { meanAbs: n > 0 ? sum / n : 0, maxAbs: max };
}

/**
 * The reference's ppo_kl (mean of old − current log-prob) and pg_clipfrac (the share of trained
 * tokens whose ratio the clip holds: A > 0 above the upper bound, A < 0 below the lower one).
 */
export function ratioStats(
  datums: readonly Datum[],
  learner: readonly (readonly number[])[],
  cfg: LossConfig,
): { kl: number; clipFraction: number } {
  const lo = cfg.clipLowThreshold ?? 0.8;
  const hi = cfg.clipHighThreshold ?? 1.2;
  let kl = 0;
  let clipped = 0;
  let n = 0;
  forTrainedTokens(datums, learner, (old, cur, a) => {
    kl += old - cur;
    const r = Math.exp(Math.min(20, Math.max(-20, cur - old)));
    if ((a > 0 && r > hi) || (a < 0 && r < lo)) clipped++;
    n++;
  });
  return { kl: n > 0 ? kl / n : 0, clipFraction: n > 0 ? clipped / n : 0 };
}

/** The step's time breakdown: engine sampling + engine update, the rest is the controller. */
export function timingBreakdown(
  stepStart: number,
  sampleSeconds: number,
  updateSeconds: number,
): Record<string, number> {
  const step = (performance.now() - stepStart) / 1000;
  return {
    'timing_s/step': step,
    'timing_s/engine_sample': sampleSeconds,
    'timing_s/engine_update': updateSeconds,
    'timing_s/controller': step - sampleSeconds - updateSeconds,
  };
}
