/**
 * The policy update shared by every training mode: trajectories → datums (token-mean scaling) →
 * one PPO forwardBackward + optimStep → refreshSampler, with the update's metrics and engine time.
 * A batch with nothing trainable records a skipped update instead.
 */
import type { Datum, LossAggregation } from '../engine/types.ts';
import type { TrainConfig } from './config.ts';
import type { Counters } from './counters.ts';
import { buildDatums, type Trajectory } from './datums.ts';
import type { RolePolicy } from './policy.ts';

export interface UpdateOutcome {
  /** `actor/*` metrics (empty when the update was skipped). */
  readonly metrics: Record<string, number>;
  readonly datums: number;
  /** Wall-clock seconds spent in the engine for the update. */
  readonly seconds: number;
}

export async function runPolicyUpdate(
  policy: RolePolicy,
  cfg: TrainConfig,
  trajectories: readonly Trajectory[],
  lossAggregation: LossAggregation,
  counters: Counters,
): Promise<UpdateOutcome> {
  const datums = buildDatums(trajectories, cfg.optim.lossAggregation, lossAggregation);
  if (datums.length === 0) {
    counters.add('train/skipped_update');
    return { metrics: {}, datums: 0, seconds: 0 };
  }
  const t0 = performance.now();
  const metrics: Record<string, number> = {};
  const fb = await policy.engine.forwardBackward(datums, 'ppo', {
    clipLowThreshold: 1 - cfg.optim.clipLow,
    clipHighThreshold: 1 + cfg.optim.clipHigh,
  });
  metrics['actor/pg_loss'] = fb.loss;
  metrics['actor/ppo_kl'] = samplerLearnerKl(datums, fb.logprobs);
  const opt = await policy.engine.optimStep({
    learningRate: cfg.optim.learningRate,
    beta1: cfg.optim.beta1,
    beta2: cfg.optim.beta2,
    eps: cfg.optim.eps,
    weightDecay: cfg.optim.weightDecay,
    gradClipNorm: cfg.optim.gradClipNorm,
  });
  for (const [k, v] of Object.entries(opt.metrics)) metrics[`actor/${k}`] = v;
  metrics['actor/lr'] = cfg.optim.learningRate;
  await policy.engine.refreshSampler();
  return { metrics, datums: datums.length, seconds: (performance.now() - t0) / 1000 };
}

/** Mean (sampler − learner) logprob over trained tokens: ~0 on-policy (the reference's ppo_kl). */
function samplerLearnerKl(
  datums: readonly Datum[],
  learner: readonly (readonly number[])[],
): number {
  let sum = 0;
  let n = 0;
  datums.forEach((d, i) => {
    const lp = learner[i] ?? [];
    (d.advantages ?? []).forEach((a, t) => {
      if (a === 0) return;
      sum += (d.logprobs?.[t] ?? 0) - (lp[t] ?? 0);
      n += 1;
    });
  });
  return n > 0 ? sum / n : 0;
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
