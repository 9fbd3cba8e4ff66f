/**
 * Qwen3Model: the synchronous, in-thread embedded engine. It owns one contiguous parameter
 * buffer and, lazily, the gradient and Adam-moment buffers in the same layout, plus the
 * activation workspace. forwardBackward accumulates gradients (hosted Tinker semantics: loss
 * summed over tokens and datums) until optimStep applies AdamW and zeroes them. Datums of any
 * length run one at a time, so there is no padding. The worker (worker.ts) wraps this class;
 * benchmarks and tests may use it directly.
 */
import { EngineError } from '../core/errors.ts';
import type {
  AdamParams,
  Datum,
  ForwardBackwardResult,
  LossConfig,
  LossName,
  SampleRequest,
  SampleResult,
} from '../engine/types.ts';
import type { Qwen3Config } from './config.ts';
import { backwardSequence, forwardSequence, lmHeadPass } from './forward.ts';
import { gemm } from './kernels/gemm.ts';
import { modelInvFreq } from './rope-freq.ts';
import { resolveLoss, tokenLoss, validateDatum } from './losses.ts';
import { adamwStep } from './optim.ts';
import type { AdamState, AdamStepMetrics } from './optim.ts';
import { initParams, paramTable, pointParams } from './params.ts';
import type { ModelViews, ParamTable } from './params.ts';
import { sampleSequences } from './sampler.ts';
import { allocWorkspace, backwardScratch } from './workspace.ts';
import type { Workspace } from './workspace.ts';

/** The embedded Qwen3 decoder with its training state. */
export class Qwen3Model {
  readonly config: Qwen3Config;
  readonly table: ParamTable;
  /** All parameters, laid out by `table`. */
  readonly params: Float32Array;
  readonly views: ModelViews;
  private gradBuf: Float32Array | null = null;
  private gradViews: ModelViews | null = null;
  private adam: AdamState | null = null;
  private ws: Workspace | null = null;
  private inferWs: Workspace | null = null;
  private readonly invFreq: Float64Array;

  /**
   * @param config validated configuration
   * @param params an existing buffer laid out by `paramTable(config)` (default: zeros)
   */
  constructor(config: Qwen3Config, params?: Float32Array) {
    this.config = config;
    this.table = paramTable(config);
    if (params && params.length !== this.table.totalSize) {
      throw new EngineError(
        `parameter buffer has ${params.length} floats, the config needs ${this.table.totalSize}`,
      );
    }
    this.params = params ?? new Float32Array(this.table.totalSize);
    this.views = pointParams(config, this.table, this.params);
    this.invFreq = modelInvFreq(config);
  }

  /** A model with fresh random weights (deterministic in `seed`). */
  static random(config: Qwen3Config, seed: number): Qwen3Model {
    const m = new Qwen3Model(config);
    initParams(config, m.table, m.params, seed);
    return m;
  }

  /** The gradient buffer (allocated on first use), same layout as `params`. */
  get grads(): Float32Array {
    if (!this.gradBuf) {
      this.gradBuf = new Float32Array(this.table.totalSize);
      this.gradViews = pointParams(this.config, this.table, this.gradBuf);
    }
    return this.gradBuf;
  }

  /** Adam state (moments allocated on first use). */
  get adamState(): AdamState {
    if (!this.adam) {
      this.adam = {
        m: new Float32Array(this.table.totalSize),
        v: new Float32Array(this.table.totalSize),
        step: 0,
      };
    }
    return this.adam;
  }

  /** Replace the Adam state (checkpoint load). */
  setAdamState(state: AdamState): void {
    if (state.m.length !== this.table.totalSize || state.v.length !== this.table.totalSize) {
      throw new EngineError('optimizer moments do not match the parameter layout');
    }
    this.adam = state;
  }

  /** A workspace for T tokens: the training one, or the layer-sharing one for forward only. */
  private workspace(T: number, inference = false): Workspace {
    if (T > this.config.maxPositions) {
      throw new EngineError(
        `sequence of ${T} tokens exceeds max_position_embeddings ${this.config.maxPositions}`,
      );
    }
    const ws = inference ? this.inferWs : this.ws;
    if (ws && ws.cap >= T) return ws;
    // Grow geometrically so a run of slowly growing lengths does not reallocate every call.
    const cap = Math.min(this.config.maxPositions, Math.max(T, ws ? ws.cap * 2 : 16));
    // let the old buffers go before allocating the new ones
    if (inference) this.inferWs = null;
    else this.ws = null;
    const fresh = allocWorkspace(this.config, cap, inference);
    if (inference) this.inferWs = fresh;
    else this.ws = fresh;
    return fresh;
  }

  /** Accumulate gradients of the loss over `data`; returns per-token logprobs and the loss sum. */
  forwardBackward(
    data: readonly Datum[],
    loss: LossName,
    config?: LossConfig,
  ): ForwardBackwardResult {
    return this.run(data, loss, config, true);
  }

  /** Forward only: per-token logprobs and the loss, no gradient. */
  forward(data: readonly Datum[], loss: LossName, config?: LossConfig): ForwardBackwardResult {
    return this.run(data, loss, config, false);
  }

  private run(
    data: readonly Datum[],
    lossName: LossName,
    lossConfig: LossConfig | undefined,
    train: boolean,
  ): ForwardBackwardResult {
    const loss = resolveLoss(lossName, lossConfig);
    data.forEach((d, i) => validateDatum(d, i, lossName, this.config.vocabSize));
    if (train) void this.grads;
    const logprobs: number[][] = [];
    let total = 0;
    let tokens = 0;
    let clipped = 0;
    for (const datum of data) {
      const T = datum.modelInput.length;
      const ws = this.workspace(T, !train);
      forwardSequence(this.config, this.views, ws, datum.modelInput, T, this.invFreq);
      const lp = new Array<number>(T);
      const scratch = train ? backwardScratch(this.config, ws) : null;
      let any = false;
      lmHeadPass(
        this.config,
        this.views,
        train ? this.gradViews : null,
        ws,
        scratch,
        datum.targetTokens,
        T,
        (t, logprob) => {
          lp[t] = logprob;
          const tl = tokenLoss(loss, datum, t, logprob);
          total += tl.loss;
          if (tl.loss !== 0 || tl.dlogprob !== 0) tokens++;
          if (lossName === 'ppo' && tl.dlogprob === 0 && tl.loss !== 0) clipped++;
          if (tl.dlogprob !== 0) any = true;
          return tl.dlogprob;
        },
      );
      if (train && scratch && this.gradViews && any) {
        backwardSequence(
          this.config,
          this.views,
          this.gradViews,
          ws,
          scratch,
          datum.modelInput,
          T,
          this.invFreq,
        );
      }
      logprobs.push(lp);
    }
    const metrics: Record<string, number> = { 'loss:sum': total, 'tokens:sum': tokens };
    if (lossName === 'ppo') metrics['clipped_tokens:sum'] = clipped;
    return { logprobs, loss: total, metrics };
  }

  /** Apply AdamW to the accumulated gradients, then zero them. */
  optimStep(adam: AdamParams): AdamStepMetrics {
    return adamwStep(this.params, this.grads, this.adamState, adam);
  }

  /** Generate continuations with the KV cache (see sampler.ts). */
  sample(req: SampleRequest): SampleResult {
    return sampleSequences(
      this.config,
      this.views,
      (T) => this.workspace(T, true),
      this.invFreq,
      req,
    );
  }

  /** Full logits (T, V) of a token sequence (tests and tools; allocates T·V floats). */
  logits(tokens: readonly number[]): Float32Array {
    const T = tokens.length;
    const V = this.config.vocabSize;
    const out = new Float32Array(T * V);
    const ws = this.workspace(T, true);
    forwardSequence(this.config, this.views, ws, tokens, T, this.invFreq);
    const C = this.config.hiddenSize;
    gemm(false, true, T, V, C, ws.xf.subarray(0, T * C), this.views.lmHead, out, false);
    return out;
  }
}
