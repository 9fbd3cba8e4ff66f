/**
 * AdamW over the flat parameter buffer, PyTorch semantics: decoupled weight decay
 * (p ← p − lr·wd·p), bias-corrected moments, p ← p − lr·m̂ / (√v̂ + eps); global grad-norm clipping
 * first (scale by clip / (norm + 1e-6) when norm > clip, as torch.nn.utils.clip_grad_norm_ does).
 * A non-finite grad norm skips the update (moments and step untouched). Gradients are zeroed
 * after every call, skipped or not. Pure and synchronous.
 */
import { EngineError } from '../core/errors.ts';
import type { AdamParams } from '../core/policy-types.ts';

/** The optimizer's state: moments in the parameter layout and the number of applied steps. */
export interface AdamState {
  readonly m: Float32Array;
  readonly v: Float32Array;
  step: number;
}

/** Metrics of one call (keys namespaced `optim/…` plus the port's `grad_norm` and `skipped`). */
export interface AdamStepMetrics {
  readonly grad_norm: number;
  readonly skipped: number;
  readonly 'optim/step': number;
  readonly 'optim/lr': number;
  readonly 'optim/clip_scale': number;
}

/** The global L2 norm of `grads`, summed in float64. */
export function gradNorm(grads: Float32Array): number {
  let ss = 0;
  for (let i = 0; i < grads.length; i++) ss += grads[i] * grads[i];
  return Math.sqrt(ss);
}

/**
 * Validate Adam hyper-parameters.
 * @throws EngineError naming the field and value
 */
export function validateAdam(a: AdamParams): void {
  const bad = (field: string, v: number, want: string): never => {
    throw new EngineError(`adam.${field} = ${v} is invalid: expected ${want}`);
  };
  if (!(a.learningRate >= 0) || !Number.isFinite(a.learningRate))
    bad('learningRate', a.learningRate, 'a finite number ≥ 0');
  if (!(a.beta1 >= 0 && a.beta1 < 1)) bad('beta1', a.beta1, 'a number in [0, 1)');
  if (!(a.beta2 >= 0 && a.beta2 < 1)) bad('beta2', a.beta2, 'a number in [0, 1)');
  if (!(a.eps > 0)) bad('eps', a.eps, 'a number > 0');
  if (!(a.weightDecay >= 0)) bad('weightDecay', a.weightDecay, 'a number ≥ 0');
  if (!(a.gradClipNorm >= 0)) bad('gradClipNorm', a.gradClipNorm, 'a number ≥ 0 (0 disables)');
}

/** One AdamW update of `params` from `grads`, then `grads.fill(0)`. */
export function adamwStep(
  params: Float32Array,
  grads: Float32Array,
  state: AdamState,
  a: AdamParams,
): AdamStepMetrics {
  validateAdam(a);
  const norm = gradNorm(grads);
  if (!Number.isFinite(norm)) {
    grads.fill(0);
    return {
      grad_norm: norm,
      skipped: 1,
      'optim/step': state.step,
      'optim/lr': a.learningRate,
      'optim/clip_scale': 1,
    };
  }
  const clipScale =
    a.gradClipNorm > 0 && norm > a.gradClipNorm ? a.gradClipNorm / (norm + 1e-6) : 1;
  state.step += 1;
  const t = state.step;
  const { beta1: b1, beta2: b2, eps, learningRate: lr, weightDecay: wd } = a;
  const bc1 = 1 - Math.pow(b1, t);
  const bc2 = 1 - Math.pow(b2, t);
  const decay = 1 - lr * wd;
  const { m, v } = state;
  for (let i = 0; i < params.length; i++) {
    const g = grads[i] * clipScale;
    const mi = b1 * m[i] + (1 - b1) * g;
    const vi = b2 * v[i] + (1 - b2) * g * g;
    m[i] = mi;
    v[i] = vi;
    params[i] = params[i] * decay - (lr * (mi / bc1)) / (Math.sqrt(vi / bc2) + eps);
  }
  grads.fill(0);
  return {
    grad_norm: norm,
    skipped: 0,
    'optim/step': t,
    'optim/lr': lr,
    'optim/clip_scale': clipScale,
  };
}
