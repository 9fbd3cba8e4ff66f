/**
 * The policy-engine port: everything tensor-shaped happens behind these interfaces.
 * Prompts cross this boundary as token ids; tokenization and chat templates belong to the caller.
 *
 * Implementations: `local` (the embedded engine, in-process/worker threads), `tinker` (a client of
 * the Tinker REST protocol: SkyRL tx, the hosted service, or `spell serve`).
 */

export type {
  StopReason,
  SamplingParams,
  SampleRequest,
  SampledSequence,
  TokenLogprob,
  SampleResult,
  LossName,
  Datum,
  LossConfig,
  ForwardBackwardResult,
  AdamParams,
  OptimResult,
  LossAggregation,
} from '../core/policy-types.ts';
import type {
  SampleRequest,
  SampleResult,
  LossName,
  Datum,
  LossConfig,
  ForwardBackwardResult,
  AdamParams,
  OptimResult,
  LossAggregation,
} from '../core/policy-types.ts';

export interface EngineInfo {
  readonly modelName: string;
  /** A local HF tokenizer folder, when the engine knows one. */
  readonly tokenizerDir?: string;
  readonly maxContext: number;
  readonly vocabSize?: number;
  readonly lossAggregation: LossAggregation;
  /** True when the engine applies LossConfig.temperature (local, `spell serve`); else it is dropped. */
  readonly lossTemperature?: boolean;
}

export interface PolicyEngine {
  info(): Promise<EngineInfo>;
  /**
   * Sample. When `signal` aborts, the engine may stop the work (the local engine does, even
   * mid-decode) and the promise rejects; engines that cannot stop it let it finish unseen.
   */
  sample(req: SampleRequest, signal?: AbortSignal): Promise<SampleResult>;
  /** Forward only: per-token logprobs and the loss, no gradient. */
  forward(
    data: readonly Datum[],
    loss: LossName,
    config?: LossConfig,
  ): Promise<ForwardBackwardResult>;
  /** Accumulate gradients of the loss; they stay until `optimStep`. */
  forwardBackward(
    data: readonly Datum[],
    loss: LossName,
    config?: LossConfig,
  ): Promise<ForwardBackwardResult>;
  /** Apply and clear the accumulated gradients. */
  optimStep(adam: AdamParams): Promise<OptimResult>;
  /** Later samples use the latest weights. */
  refreshSampler(): Promise<void>;
  /** Save weights + optimizer state under a name; returns a reference `load` accepts. */
  save(name: string): Promise<string>;
  load(ref: string): Promise<void>;
  close(): Promise<void>;
}
