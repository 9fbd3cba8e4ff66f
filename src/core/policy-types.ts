/**
 * The data that crosses the policy-engine port: sampling requests and results, training datums,
 * losses and optimizer settings. Both the port (engine/types.ts) and the embedded model (model/)
 * speak these, so they live below both.
 */

export type StopReason = 'stop' | 'length';

export interface SamplingParams {
  /** Hard cap on generated tokens. */
  readonly maxTokens: number;
  /** 0 means greedy. */
  readonly temperature: number;
  /** 1 disables nucleus filtering. */
  readonly topP: number;
  /** -1 (or 0) disables top-k filtering. */
  readonly topK: number;
  /** Generation stops after any of these token ids (the stop token is included in `tokens`). */
  readonly stopTokenIds?: readonly number[];
  /** Generation stops after any of these token sequences (included in `tokens`). */
  readonly stopSequences?: readonly (readonly number[])[];
  /** Same seed + same weights + same prompt -> same tokens. Sample i of a request uses seed + i. */
  readonly seed?: number;
}

export interface SampleRequest {
  readonly prompt: readonly number[];
  readonly numSamples: number;
  readonly params: SamplingParams;
  /**
   * Also return, per sampled token, the k most likely tokens of the raw policy with their
   * log-probabilities (0 or absent: none; engines accept up to 20, as vLLM does).
   */
  readonly topLogprobs?: number;
  /**
   * Also score the prompt: `promptLogprobs` in the result holds log p(prompt[i] | prompt[<i]) for
   * every position (null at 0), and with `topK` > 0 (≤ 20) `promptTopLogprobs` the k most likely
   * tokens at each position. What Tinker's `prompt_logprobs` / `compute_logprobs` return.
   */
  readonly promptLogprobs?: { readonly topK: number };
}

/** A token id and its log-probability. */
export type TokenLogprob = readonly [token: number, logprob: number];

export interface SampledSequence {
  readonly tokens: number[];
  /**
   * log p(token_t | prefix) under the tempered distribution the token was drawn from:
   * log_softmax(logits / temperature), before top-k/top-p filtering (raw logits at temperature 0).
   * A learner given the same temperature in its LossConfig computes the same value.
   */
  readonly logprobs: number[];
  readonly stopReason: StopReason;
  /** Per sampled token, the `topLogprobs` most likely tokens (most likely first), when asked. */
  readonly topLogprobs?: TokenLogprob[][];
}

export interface SampleResult {
  readonly sequences: SampledSequence[];
  /** When asked (`SampleRequest.promptLogprobs`): one per prompt token, null for the first. */
  readonly promptLogprobs?: (number | null)[];
  /** When asked with topK > 0: per prompt position the top tokens (empty for the first). */
  readonly promptTopLogprobs?: TokenLogprob[][];
}

export type LossName = 'cross_entropy' | 'importance_sampling' | 'ppo';

/**
 * One training example, Tinker-style: position t of `modelInput` predicts `targetTokens[t]`.
 * All per-token arrays have the length of `modelInput`.
 */
export interface Datum {
  readonly modelInput: readonly number[];
  readonly targetTokens: readonly number[];
  /** cross_entropy: per-token weights (0 masks the position). */
  readonly weights?: readonly number[];
  /** importance_sampling / ppo: the sampler's log-probabilities of the targets. */
  readonly logprobs?: readonly number[];
  /** importance_sampling / ppo: per-token advantages (0 on prompt positions). */
  readonly advantages?: readonly number[];
}

export interface LossConfig {
  /** ppo: lower ratio bound (1 - eps_low). Default 0.8. */
  readonly clipLowThreshold?: number;
  /** ppo: upper ratio bound (1 + eps_high). Default 1.2. */
  readonly clipHighThreshold?: number;
  /**
   * Every loss: the learner's logits are divided by this before the log-softmax, so its log-probs
   * are those of the tempered distribution the samples were drawn from (the reference's actor does
   * this in both log-prob passes). Default 1. An engine whose info() lacks `lossTemperature`
   * ignores it.
   */
  readonly temperature?: number;
}

export interface ForwardBackwardResult {
  /** Per datum, the learner's log-probability of each target token. */
  readonly logprobs: number[][];
  /** Total loss of the call (sum over tokens and datums, hosted semantics). */
  readonly loss: number;
  readonly metrics: Readonly<Record<string, number>>;
}

export interface AdamParams {
  readonly learningRate: number;
  readonly beta1: number;
  readonly beta2: number;
  readonly eps: number;
  readonly weightDecay: number;
  /** Global gradient-norm clip; 0 disables. */
  readonly gradClipNorm: number;
}

export interface OptimResult {
  /** Includes `grad_norm` and `skipped` (1 when a non-finite grad norm skipped the step). */
  readonly metrics: Readonly<Record<string, number>>;
}

/** How the engine aggregates a loss over tokens (it changes what a learning rate means). */
export type LossAggregation = 'sum' | 'sequence-token-mean';
