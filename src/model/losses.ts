/**
 * The Tinker built-in losses with hosted semantics: a plain sum over tokens (and, in the caller,
 * over datums and calls), per token t with ℓ = learner logprob, s = sampler logprob, A = advantage,
 * w = weight and r = exp(ℓ − s):
 *   cross_entropy        −w·ℓ
 *   importance_sampling  −r·A
 *   ppo                  −min(r·A, clip(r, lo, hi)·A)
 * Every loss is separable per token, so the model fuses it into the chunked LM-head pass.
 * Pure functions, no I/O.
 */
import { EngineError } from '../core/errors.ts';
import type { Datum, LossConfig, LossName } from '../core/policy-types.ts';

/** Loss and d(loss)/dℓ of one token. */
export interface TokenLoss {
  readonly loss: number;
  readonly dlogprob: number;
}

/** Per-call resolved loss settings. */
export interface ResolvedLoss {
  readonly name: LossName;
  readonly clipLow: number;
  readonly clipHigh: number;
  /** Logits are divided by this before the log-softmax (1 = raw). */
  readonly temperature: number;
}

/**
 * Validate the loss name/config once per call.
 * @throws EngineError on an unknown loss or inverted clip thresholds
 */
export function resolveLoss(name: LossName, config: LossConfig = {}): ResolvedLoss {
  if (name !== 'cross_entropy' && name !== 'importance_sampling' && name !== 'ppo') {
    throw new EngineError(
      `unknown loss "${String(name)}", expected cross_entropy, importance_sampling or ppo`,
    );
  }
  const clipLow = config.clipLowThreshold ?? 0.8;
  const clipHigh = config.clipHighThreshold ?? 1.2;
  if (!(clipLow <= clipHigh) || !Number.isFinite(clipLow) || !Number.isFinite(clipHigh)) {
    throw new EngineError(
      `ppo clip thresholds must be finite with low ≤ high, got low=${clipLow} high=${clipHigh}`,
    );
  }
  const temperature = config.temperature ?? 1;
  if (!(temperature > 0) || !Number.isFinite(temperature)) {
    throw new EngineError(`loss temperature must be a finite number > 0, got ${temperature}`);
  }
  return { name, clipLow, clipHigh, temperature };
}

/** Loss and gradient for token t of a datum given the learner logprob ℓ. */
export function tokenLoss(loss: ResolvedLoss, datum: Datum, t: number, logprob: number): TokenLoss {
  if (loss.name === 'cross_entropy') {
    const w = datum.weights ? datum.weights[t] : 1;
    if (w === 0) return { loss: 0, dlogprob: 0 };
    return { loss: -w * logprob, dlogprob: -w };
  }
  const A = datum.advantages ? datum.advantages[t] : 0;
  if (A === 0) return { loss: 0, dlogprob: 0 };
  const s = datum.logprobs ? datum.logprobs[t] : 0;
  const r = Math.exp(logprob - s);
  if (loss.name === 'importance_sampling') return { loss: -r * A, dlogprob: -r * A };
  // ppo: min(r·A, clip(r)·A). With A > 0 it is A·min(r, hi)-like: the gradient vanishes once the
  // clipped term is the smaller one (r > hi); with A < 0 symmetrically when r < lo.
  const clipped = Math.min(Math.max(r, loss.clipLow), loss.clipHigh);
  const unclippedTerm = r * A;
  const clippedTerm = clipped * A;
  if (unclippedTerm <= clippedTerm) return { loss: -unclippedTerm, dlogprob: -r * A };
  return { loss: -clippedTerm, dlogprob: 0 };
}

/**
 * Check a datum's per-token arrays against its length and the vocabulary.
 * @throws EngineError naming the datum index, the field and the bad value
 */
export function validateDatum(datum: Datum, index: number, loss: LossName, vocab: number): void {
  const T = datum.modelInput.length;
  const fail = (msg: string): never => {
    throw new EngineError(`datum ${index}: ${msg}`);
  };
  if (T === 0) fail('modelInput is empty');
  if (datum.targetTokens.length !== T) {
    fail(`targetTokens has length ${datum.targetTokens.length}, expected ${T} (modelInput length)`);
  }
  const checkTokens = (field: string, xs: readonly number[]): void => {
    for (let i = 0; i < xs.length; i++) {
      const x = xs[i];
      if (!Number.isInteger(x) || x < 0 || x >= vocab) {
        fail(`${field}[${i}] = ${x} is not a token id in [0, ${vocab})`);
      }
    }
  };
  checkTokens('modelInput', datum.modelInput);
  checkTokens('targetTokens', datum.targetTokens);
  const checkFloats = (
    field: string,
    xs: readonly number[] | undefined,
    required: boolean,
  ): void => {
    if (!xs) {
      if (required) fail(`${field} is required by the ${loss} loss`);
      return;
    }
    if (xs.length !== T) fail(`${field} has length ${xs.length}, expected ${T}`);
    for (let i = 0; i < xs.length; i++) {
      if (!Number.isFinite(xs[i])) fail(`${field}[${i}] = ${xs[i]} is not finite`);
    }
  };
  if (loss === 'cross_entropy') {
    checkFloats('weights', datum.weights, false);
  } else {
    checkFloats('logprobs', datum.logprobs, true);
    checkFloats('advantages', datum.advantages, true);
  }
}
